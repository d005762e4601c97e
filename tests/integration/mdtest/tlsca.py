"""A throw-away certificate authority for the TLS registry and token signing."""
import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _validity(builder):
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(
        now + datetime.timedelta(days=2))


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def self_signed(cn):
    """(key, cert) of a self-signed certificate; used as JWT signing cert."""
    key = _key()
    b = x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
    b = _validity(b).serial_number(x509.random_serial_number()).public_key(key.public_key())
    b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    b = b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                        critical=True)
    return key, b.sign(key, hashes.SHA256())


class TestCA:
    """A CA (key + cert) that issues server certificates for 127.0.0.1/localhost."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        self.dir = directory
        self.key = _key()
        b = x509.CertificateBuilder().subject_name(_name("magos test CA")).issuer_name(
            _name("magos test CA"))
        b = _validity(b).serial_number(x509.random_serial_number()).public_key(
            self.key.public_key())
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                          False), critical=True)
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                            critical=False)
        self.cert = b.sign(self.key, hashes.SHA256())
        self.cert_file = os.path.join(directory, "ca.pem")
        with open(self.cert_file, "wb") as f:
            f.write(cert_pem(self.cert))

    def issue_server(self, name="server", hosts=("127.0.0.1", "localhost")):
        """Write <name>.crt/<name>.key for `hosts`; return (cert_file, key_file)."""
        key = _key()
        sans = []
        for h in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                sans.append(x509.DNSName(h))
        b = x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(
            self.cert.subject)
        b = _validity(b).serial_number(x509.random_serial_number()).public_key(key.public_key())
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                            critical=False)
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            self.key.public_key()), critical=False)
        cert = b.sign(self.key, hashes.SHA256())
        cert_file = os.path.join(self.dir, f"{name}.crt")
        key_file = os.path.join(self.dir, f"{name}.key")
        with open(cert_file, "wb") as f:
            f.write(cert_pem(cert))
        with open(key_file, "wb") as f:
            f.write(key_pem(key))
        os.chmod(key_file, 0o600)
        return cert_file, key_file

    def client_context(self):
        """An ssl.SSLContext that trusts only this CA."""
        return ssl.create_default_context(cafile=self.cert_file)
