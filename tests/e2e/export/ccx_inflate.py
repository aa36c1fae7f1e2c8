#!/usr/bin/python3
"""CalculiX passive inflation of the myocardium of twin-export's heart.inp.

usage: ccx_inflate.py INP_DIR WORK_DIR SURFACE [BASE_NSET...]

Writes WORK_DIR/job.inp: heart.inp included as it is, a soft linear-elastic
myocardium (10 kPa) and a near-void blood pool, the base fixed, pressure
0.2 kPa on the element surface SURFACE (*DSLOAD on the *SURFACE twin-export
wrote). The base is the nodes of the top plane, NLGEOM; or, when node sets
are named (the valves of a whole heart), their nodes, in one linear step. Runs ccx, then checks that it
converged and that every displacement is finite, that some are not zero, and
that the surface's nodes move outwards (away from their centroid) on average.
When heart.inp defines *ORIENTATION FIBRES (twin-export with fibres), the
myocardium is transversely isotropic (twice as stiff along the fibre) in
that orientation, and a second run with the same material in global axes
must end elsewhere: proof that CalculiX used the per-element orientation.
Prints one line; exit 0 when all holds.
"""
import math
import os
import re
import subprocess
import sys


def read_inp(path):
    nodes, nsets, in_nodes, cur = {}, {}, False, None
    with open(path) as f:
        for line in f:
            if line.startswith('**'):
                continue
            if line.startswith('*'):
                kw = line.upper()
                in_nodes = kw.startswith('*NODE') and not kw.startswith('*NODE ')
                m = re.match(r'\*NSET,\s*NSET=(\S+)', line.strip(), re.I)
                cur = nsets.setdefault(m.group(1), []) if m else None
                continue
            if in_nodes:
                v = line.split(',')
                nodes[int(v[0])] = tuple(float(a) for a in v[1:4])
            elif cur is not None:
                cur.extend(int(a) for a in line.split(',') if a.strip())
    return nodes, nsets


def main():
    inp_dir, work, surface = sys.argv[1:4]
    base_sets = sys.argv[4:]
    inp = os.path.abspath(os.path.join(inp_dir, 'heart.inp'))
    nodes, nsets = read_inp(inp)
    if base_sets:
        base = sorted(set(n for s in base_sets for n in nsets[s]))
    else:
        ztop = max(p[2] for p in nodes.values())
        base = sorted(n for n, p in nodes.items() if p[2] > ztop - 1e-6)
    regions = [s for s in nsets if s.startswith('heart_') or s in ('aorta', 'pulmonary_artery')]
    with open(inp) as f:
        fibres = any(l.upper().startswith('*ORIENTATION, NAME=FIBRES') for l in f)
    u = run_job(inp, work, base, base_sets, regions, surface, fibres)
    if isinstance(u, str):
        print(u)
        return 1
    if len(u) != len(nodes):
        print('job.dat holds %d displacements, want %d' % (len(u), len(nodes)))
        return 1
    note = ''
    if fibres:
        g = run_job(inp, os.path.join(work, 'global'), base, base_sets, regions, surface, False, True)
        if isinstance(g, str):
            print('in global axes: ' + g)
            return 1
        diff = max(math.sqrt(sum((u[n][k] - g[n][k]) ** 2 for k in range(3))) for n in u)
        gmax = max(math.sqrt(sum(a * a for a in d)) for d in g.values())
        if not diff > 1e-3 * gmax:
            print('the fibre orientation changes nothing: max difference %g mm' % diff)
            return 1
        note = ', fibre orientation (max |u - u_global| %.3g mm)' % diff
    return check(u, nodes, nsets, surface, note)


def run_job(inp, work, base, base_sets, regions, surface, fibres, ortho=None):
    """Runs one job in work; the last displacements, or a message."""
    ortho = fibres if ortho is None else ortho
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, 'job.inp'), 'w') as f:
        f.write('*INCLUDE, INPUT=%s\n' % inp)
        f.write('*NSET, NSET=BASE\n')
        for i in range(0, len(base), 16):
            f.write(', '.join(str(n) for n in base[i:i + 16]) + '\n')
        if ortho:
            # E_f 20 kPa along the fibre, 10 kPa across; nu 0.3 / 0.4
            f.write('*MATERIAL, NAME=MYO\n*ELASTIC, TYPE=ENGINEERING CONSTANTS\n'
                    '0.02, 0.01, 0.01, 0.3, 0.3, 0.4, 0.005, 0.005\n0.0035714\n')
        else:
            f.write('*MATERIAL, NAME=MYO\n*ELASTIC\n0.01, 0.45\n')
        f.write('*MATERIAL, NAME=VOID\n*ELASTIC\n1e-6, 0.3\n')
        for r in regions:
            mat = 'MYO' if r == 'heart_myocardium' else 'VOID'
            ori = ', ORIENTATION=FIBRES' if fibres and mat == 'MYO' else ''
            f.write('*SOLID SECTION, ELSET=%s, MATERIAL=%s%s\n' % (r, mat, ori))
        f.write('*BOUNDARY\nBASE, 1, 3, 0.\n')
        f.write('*STEP\n*STATIC\n' if base_sets else '*STEP, NLGEOM\n*STATIC\n0.25, 1.\n')
        f.write('*DSLOAD\n%s, P, 0.0002\n' % surface)
        f.write('*NODE PRINT, NSET=NALL\nU\n*END STEP\n')
    run = subprocess.run(['ccx', '-i', 'job'], cwd=work, capture_output=True, text=True)
    out = run.stdout + run.stderr
    if run.returncode != 0 or '*ERROR' in out or 'Job finished' not in out:
        return 'ccx failed (exit %d): %s' % (run.returncode,
            ' | '.join(l for l in out.splitlines() if 'ERROR' in l)[:300] or out[-300:])
    # the last displacement block of job.dat
    u, block = {}, None
    with open(os.path.join(work, 'job.dat')) as f:
        for line in f:
            if 'displacements' in line:
                block = {}
                u = block
                continue
            v = line.split()
            if block is not None and len(v) == 4:
                try:
                    block[int(v[0])] = tuple(float(a) for a in v[1:])
                except ValueError:
                    pass
    return u


def check(u, nodes, nsets, surface, note):
    bad = [n for n, d in u.items() if not all(math.isfinite(a) for a in d)]
    umax = max(math.sqrt(sum(a * a for a in d)) for d in u.values())
    if bad or not umax > 0:
        print('displacement not finite at %d nodes, max |u| %g' % (len(bad), umax))
        return 1
    surf = nsets[surface]
    c = [sum(nodes[n][k] for n in surf) / len(surf) for k in range(3)]
    radial = []
    for n in surf:
        d = [nodes[n][k] - c[k] for k in range(3)]
        r = math.sqrt(sum(a * a for a in d))
        if r > 1e-9:
            radial.append(sum(u[n][k] * d[k] for k in range(3)) / r)
    mean = sum(radial) / len(radial)
    if not mean > 0:
        print('%s moves inwards: mean radial displacement %g mm' % (surface, mean))
        return 1
    print('converged: %d nodes, max |u| %.4g mm, mean radial displacement of %s %.4g mm%s'
          % (len(u), umax, surface, mean, note))
    return 0


if __name__ == '__main__':
    sys.exit(main())
