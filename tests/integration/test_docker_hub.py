"""Docker Hub name normalisation needs Docker Hub itself."""
import pytest


@pytest.mark.skip(reason="Docker Hub normalisation (nginx → docker.io/library/nginx) needs "
                         "registry-1.docker.io; the suite only talks to 127.0.0.1. It is "
                         "covered by the ref module's unit tests.")
def test_docker_hub_normalisation():
    pass
