#!/usr/bin/python3
"""dolfinx reads twin-export's XDMF with its tags and solves a Laplace problem.

usage: dolfinx_laplace.py XDMF_DIR SURFACE_0 SURFACE_1

Reads heart.xdmf (grid "mesh", cell tags) and facets.xdmf (grid
"facet_tags"), checks that the tags hold the ids their names carry, solves
-div grad u = 0 with u = 0 on SURFACE_0 and u = 1 on SURFACE_1, and checks
that u stays within [0, 1] and takes values between. Prints one line.
"""
import re
import sys

import numpy as np
import ufl
from dolfinx import fem, io
from dolfinx.fem.petsc import LinearProblem
from mpi4py import MPI
from petsc4py import PETSc


def names(path):
    with open(path) as f:
        return {k: int(v) for k, v in re.findall(r'<map key="([^"]+)" dim="\d">(-?\d+)</map>', f.read())}


def main():
    d, s0, s1 = sys.argv[1:4]
    with io.XDMFFile(MPI.COMM_WORLD, d + '/heart.xdmf', 'r') as f:
        mesh = f.read_mesh(name='mesh')
        cells = f.read_meshtags(mesh, name='mesh')
    mesh.topology.create_connectivity(2, 3)
    with io.XDMFFile(MPI.COMM_WORLD, d + '/facets.xdmf', 'r') as f:
        facets = f.read_meshtags(mesh, name='facet_tags')
    surf = names(d + '/facets.xdmf')
    regions = names(d + '/heart.xdmf')
    missing = [n for n, t in regions.items() if not np.any(cells.values == t)]
    missing += [n for n, t in surf.items() if not np.any(facets.values == t)]
    if missing:
        print('tags without entities: %s' % ', '.join(missing))
        return 1
    V = fem.FunctionSpace(mesh, ('Lagrange', 1))
    bcs = []
    for name, value in ((s0, 0.0), (s1, 1.0)):
        dofs = fem.locate_dofs_topological(V, 2, facets.find(surf[name]))
        if len(dofs) == 0:
            print('surface %s has no degrees of freedom' % name)
            return 1
        bcs.append(fem.dirichletbc(PETSc.ScalarType(value), dofs, V))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    a = ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx
    L = fem.Constant(mesh, PETSc.ScalarType(0.0)) * v * ufl.dx
    uh = LinearProblem(a, L, bcs=bcs, petsc_options={'ksp_type': 'preonly', 'pc_type': 'lu'}).solve()
    x = uh.x.array
    inner = np.mean((x > 0.01) & (x < 0.99))
    if not (np.all(np.isfinite(x)) and x.min() > -1e-8 and x.max() < 1 + 1e-8 and inner > 0.1):
        print('bad solution: min %g max %g, %.0f%% strictly between' % (x.min(), x.max(), 100 * inner))
        return 1
    print('%d cells, %d tagged facets; u in [%.3g, %.3g], %.0f%% of dofs strictly between'
          % (mesh.topology.index_map(3).size_local, len(facets.values), x.min(), x.max(), 100 * inner))
    return 0


if __name__ == '__main__':
    sys.exit(main())
