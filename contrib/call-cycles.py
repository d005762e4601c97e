#!/usr/bin/env python3
"""File-level call graph of internal/ from nm on <build>/obj (defined vs undefined
symbols per object); prints the strongly connected components of 3+ files
(docs/design.md: folders call only downward, no loop of three files) and what
each cycle module calls. Usage: contrib/call-cycles.py [build-dir]"""
import subprocess, glob, sys, os
objs = sorted(glob.glob(os.path.join(sys.argv[1] if len(sys.argv) > 1 else 'build', 'obj/internal/*/*.o')))
# objects of sources that no longer exist (a moved file) are stale: skip them
objs = [o for o in objs if os.path.exists(o.split('obj/', 1)[1][:-2] + '.c')]
defined, undef = {}, {}
for o in objs:
    out = subprocess.run(['nm', o], capture_output=True, text=True).stdout
    d, u = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in 'TDBRC':
            d.add(parts[2])
        elif len(parts) == 2 and parts[0] == 'U':
            u.add(parts[1])
    defined[o], undef[o] = d, u
owner = {}
for o, d in defined.items():
    for s in d:
        owner.setdefault(s, o)
name = lambda o: o.split('obj/internal/')[1][:-2]
g = {o: sorted({owner[s] for s in undef[o] if s in owner and owner[s] != o}) for o in objs}
# Tarjan
idx, low, st, on, res, c = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in g[v]:
        if w not in idx:
            sc(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        res.append(comp)
for v in objs:
    if v not in idx: sc(v)
big = [sorted(name(x) for x in comp) for comp in res if len(comp) >= 3]
pairs = [sorted(name(x) for x in comp) for comp in res if len(comp) == 2]
print(f"{len(objs)} objects; strongly connected components of 3+ files: {len(big)}")
for comp in big: print("  SCC:", " ".join(comp))
print(f"2-file cycles: {len(pairs)}")
for comp in pairs: print("  pair:", " ".join(comp))
mods = {}
for o in objs:
    for w in g[o]:
        a, b = name(o).split('/')[0], name(w).split('/')[0]
        if a != b: mods.setdefault(a, set()).add(b)
for m in ['daemon','reconcile','publish','rollout']:
    print(f"  {m} -> {', '.join(sorted(mods.get(m, ())))}")
