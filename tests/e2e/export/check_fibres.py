#!/usr/bin/python3
"""The fibres of a twin-export folder, read back from every target that has them.

usage: check_fibres.py EXPORT_DIR

vtu/heart.vtu (meshio) holds twin_fibres_compute's array as it is (Float64):
fibre, sheet and sheet_normal per tetrahedron. In the myocardium (regions 1
and 8) each is a unit vector, fibre and sheet are orthogonal and the normal
is their cross product; elsewhere all are zero. Every other target must
carry the same values: xdmf (h5py; bit for bit), svmp (VTK: FIB_DIR of
fibres/fibre.vtu and fibres/sheet.vtu, bit for bit; the mesh-complete volume
does not carry them again), opencarp (heart.lon: 6 numbers per element of
heart.elem, 5 decimals), febio (ElementData mat_axis per myocardium region:
<a> and <d> by lid, 5 decimals) and abaqus (the *DISTRIBUTION of
*ORIENTATION FIBRES: each myocardium element once, 5 decimals). Prints one
line; exit 0 when all holds.
"""
import os
import sys
import xml.etree.ElementTree as ET

import h5py
import meshio
import numpy as np
import vtk
from vtk.util.numpy_support import vtk_to_numpy

MYO = (1, 8)
TEXT = 5.000001e-6    # 5 decimals


def fail(msg):
    print(msg)
    sys.exit(1)


def vtk_cells(path, name):
    r = vtk.vtkXMLUnstructuredGridReader()
    r.SetFileName(path)
    r.Update()
    a = r.GetOutput().GetCellData().GetArray(name)
    if a is None:
        fail('%s: no cell array %s' % (path, name))
    return vtk_to_numpy(a)


def same(what, got, want, tol):
    got = np.asarray(got, dtype=float)
    if got.shape != want.shape:
        fail('%s: shape %s, want %s' % (what, got.shape, want.shape))
    d = np.abs(got - want).max() if got.size else 0.0
    if not d <= tol:
        fail('%s differs from vtu/heart.vtu by %g' % (what, d))


def main():
    top = sys.argv[1]
    m = meshio.read(os.path.join(top, 'vtu', 'heart.vtu'))
    tets = m.cells_dict['tetra']
    n = len(tets)
    region = np.asarray(m.cell_data_dict['region']['tetra'])
    fib = {k: np.asarray(m.cell_data_dict[k]['tetra']) for k in ('fibre', 'sheet', 'sheet_normal')}
    f, s, t = fib['fibre'], fib['sheet'], fib['sheet_normal']
    myo = np.isin(region, MYO)
    if not myo.any():
        fail('no myocardium in vtu/heart.vtu')
    for k, v in fib.items():
        if v.shape != (n, 3):
            fail('%s: shape %s, want (%d, 3)' % (k, v.shape, n))
        dl = np.abs(np.linalg.norm(v[myo], axis=1) - 1).max()
        if not dl < 1e-9:
            fail('%s: a length differs from 1 by %g' % (k, dl))
        if np.any(v[~myo] != 0):
            fail('%s: not zero outside the myocardium' % k)
    dot = np.abs(np.einsum('ij,ij->i', f[myo], s[myo])).max()
    cross = np.abs(np.cross(f[myo], s[myo]) - t[myo]).max()
    if not (dot < 1e-9 and cross < 1e-9):
        fail('fibre . sheet up to %g, |fibre x sheet - normal| up to %g' % (dot, cross))

    # xdmf: the same doubles
    with h5py.File(os.path.join(top, 'xdmf', 'heart.h5'), 'r') as h:
        for k, v in fib.items():
            same('xdmf /mesh/%s' % k, h['mesh'][k][()], v, 0)
    with open(os.path.join(top, 'xdmf', 'heart.xdmf')) as x:
        text = x.read()
    for k in fib:
        if '<Attribute Name="%s" AttributeType="Vector" Center="Cell">' % k not in text:
            fail('xdmf: heart.xdmf has no cell vector %s' % k)

    # svmp: FIB_DIR files named by solver.xml
    sv = os.path.join(top, 'svmp')
    paths = [p.text.strip() for p in ET.parse(os.path.join(sv, 'solver.xml')).getroot().iter('Fiber_direction_file_path')]
    if paths != ['fibres/fibre.vtu', 'fibres/sheet.vtu']:
        fail('svmp: solver.xml names %s' % paths)
    same('svmp fibres/fibre.vtu FIB_DIR', vtk_cells(os.path.join(sv, paths[0]), 'FIB_DIR'), f, 0)
    same('svmp fibres/sheet.vtu FIB_DIR', vtk_cells(os.path.join(sv, paths[1]), 'FIB_DIR'), s, 0)

    # opencarp: "2", then fibre and sheet per element
    with open(os.path.join(top, 'opencarp', 'heart.lon')) as x:
        lines = x.read().split('\n')
    if lines[0].strip() != '2' or lines[-1] != '':
        fail('opencarp: heart.lon does not start with 2 or end with a newline')
    lon = np.array([[float(a) for a in l.split()] for l in lines[1:-1]])
    same('opencarp heart.lon', lon, np.hstack([f, s]), TEXT)

    # febio: mat_axis per myocardium region, lid in the order of its Elements
    root = ET.parse(os.path.join(top, 'febio', 'heart.feb')).getroot()
    names = {e.get('name'): e for e in root.iter('Elements')}
    seen = 0
    for ed in root.iter('ElementData'):
        if ed.get('type') != 'mat_axis':
            continue
        block = names.get(ed.get('elem_set'))
        if block is None:
            fail('febio: mat_axis on unknown elem_set %s' % ed.get('elem_set'))
        conn = [[int(a) - 1 for a in e.text.split(',')] for e in block.iter('elem')]
        # each element of the block is a tetrahedron of the mesh, found by its nodes
        order = {}
        for i in range(n):
            order.setdefault(tuple(tets[i]), i)
        tet_of = [order.get(tuple(c)) for c in conn]
        if None in tet_of:
            fail('febio: an element of %s is no tetrahedron of the mesh' % ed.get('elem_set'))
        a = np.zeros((len(conn), 3))
        d = np.zeros((len(conn), 3))
        got = np.zeros(len(conn), dtype=bool)
        for e in ed.iter('elem'):
            k = int(e.get('lid')) - 1
            a[k] = [float(v) for v in e.find('a').text.split(',')]
            d[k] = [float(v) for v in e.find('d').text.split(',')]
            got[k] = True
        if not got.all():
            fail('febio: %s has %d of %d elements' % (ed.get('elem_set'), got.sum(), len(conn)))
        if not np.all(np.isin(region[tet_of], MYO)):
            fail('febio: mat_axis on %s, not myocardium' % ed.get('elem_set'))
        same('febio <a> of %s' % ed.get('elem_set'), a, f[tet_of], TEXT)
        same('febio <d> of %s' % ed.get('elem_set'), d, s[tet_of], TEXT)
        seen += len(conn)
    if seen != myo.sum():
        fail('febio: mat_axis for %d elements, the myocardium has %d' % (seen, myo.sum()))

    # abaqus: the distribution of ORIENTATION FIBRES, element ids 1-based in mesh order
    rows, on = {}, False
    with open(os.path.join(top, 'abaqus', 'heart.inp')) as x:
        for line in x:
            if line.startswith('**'):
                continue
            if line.startswith('*'):
                on = line.upper().startswith('*DISTRIBUTION, NAME=FIBRE_AXES,')
                continue
            if on and not line.startswith(','):
                v = line.split(',')
                rows[int(v[0]) - 1] = [float(a) for a in v[1:7]]
    if sorted(rows) != list(np.flatnonzero(myo)):
        fail('abaqus: the distribution has %d elements, the myocardium %d' % (len(rows), myo.sum()))
    ids = sorted(rows)
    same('abaqus *DISTRIBUTION', np.array([rows[i] for i in ids]), np.hstack([f, s])[ids], TEXT)

    print('fibres: %d myocardium tets of %d; unit, orthonormal, right handed; the same in vtu, xdmf, svmp, opencarp, febio and abaqus'
          % (myo.sum(), n))


if __name__ == '__main__':
    main()
