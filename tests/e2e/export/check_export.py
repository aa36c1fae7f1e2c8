#!/usr/bin/python3
"""Checks twin-export's folders against the mesh they came from.

usage: check_export.py HEART_MSH EXPORT_DIR CHECK

HEART_MSH is the MSH 4.1 input, read by meshio as the truth. CHECK is one of
  readers    meshio and VTK read every format they know (vtu, vtp, svmp,
             abaqus, msh22, xdmf, the OpenFOAM case) and keep every region
             and surface name;
  febio      heart.feb against the structure in FORMATS.md;
  opencarp   the openCARP files (micrometres, 0-based);
  svmp       the svMultiPhysics layout (1-based GlobalNodeID and
             GlobalElementID, each face's parent element).
Every check also asks that each surface triangle is a face of a tetrahedron
of the right region: the myocardium for endocardium and epicardium, a blood
region for the other surfaces. Prints what failed; exit 0 when nothing did.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

import meshio
import numpy as np

FAULTS = []


def fault(msg):
    FAULTS.append(msg)


class Truth:
    def __init__(self, path, export_dir):
        m = meshio.read(path)
        # twin-export numbers the nodes as twin_msh_load does (by tag, unused
        # ones dropped); meshio keeps the file order. The exact float64
        # points of vtu/heart.vtu give the map from one to the other.
        ours = meshio.read(os.path.join(export_dir, 'vtu/heart.vtu')).points
        where = {tuple(p): i for i, p in enumerate(ours)}
        perm = np.array([where.get(tuple(p), -1) for p in m.points])
        if len(where) != len(ours) or np.count_nonzero(perm >= 0) != len(ours):
            fault('vtu/heart.vtu: its points are not the mesh nodes')
        self.xyz = ours
        tets, treg, tris, ttag = [], [], [], []
        for block, phys in zip(m.cells, m.cell_data['gmsh:physical']):
            if block.type == 'tetra':
                tets.append(block.data)
                treg.append(phys)
            elif block.type == 'triangle':
                tris.append(block.data)
                ttag.append(phys)
        self.tets = perm[np.concatenate(tets)]
        self.treg = np.concatenate(treg)
        self.tris = perm[np.concatenate(tris)]
        self.ttag = np.concatenate(ttag)
        self.regions = {n: int(v[0]) for n, v in m.field_data.items() if v[1] == 3}
        self.surfaces = {n: int(v[0]) for n, v in m.field_data.items() if v[1] == 2}
        self.faces = {}
        for t, tet in enumerate(self.tets):
            for k in range(4):
                key = tuple(sorted(np.delete(tet, k)))
                self.faces.setdefault(key, []).append(t)

    def pool_surfaces(self):
        """The surfaces with a triangle on the blood pool's boundary: OpenFOAM's patches."""
        myo = self.regions.get('heart_myocardium')
        out = set()
        for tri, tag in zip(self.tris, self.ttag):
            blood = [t for t in self.faces.get(tuple(sorted(tri)), []) if self.treg[t] != myo]
            if len(blood) == 1:
                out.add([n for n, v in self.surfaces.items() if v == tag][0])
        return sorted(out)

    def region_ok(self, surface, tet_region):
        wall = surface.startswith('endocardium') or surface == 'epicardium'
        return (tet_region == self.regions['heart_myocardium']) == wall

    def check_face(self, what, surface, nodes, tet=None):
        """nodes: 0-based mesh nodes of a triangle; tet: 0-based parent it names, if any."""
        parents = self.faces.get(tuple(sorted(nodes)), [])
        if not parents:
            fault('%s: a %s triangle %s is no face of any tetrahedron' % (what, surface, list(nodes)))
            return
        if tet is not None and tet not in parents:
            fault('%s: a %s triangle names element %d, which it is no face of' % (what, surface, tet + 1))
            return
        cands = [tet] if tet is not None else parents
        if not any(self.region_ok(surface, self.treg[t]) for t in cands):
            fault('%s: a %s triangle lies on a tetrahedron of region %s'
                  % (what, surface, [int(self.treg[t]) for t in cands]))


def same_names(what, got, want):
    if set(got) != set(want):
        fault('%s: names %s, want %s' % (what, sorted(got), sorted(want)))


def readers(truth, d):
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy
    allnames = set(truth.regions) | set(truth.surfaces)
    m = meshio.read(os.path.join(d, 'vtu/heart.vtu'))
    same_names('meshio vtu', m.field_data, truth.regions)
    if sum(len(c.data) for c in m.cells) != len(truth.tets):
        fault('meshio vtu: cell count')
    m = meshio.read(os.path.join(d, 'svmp/mesh-complete/mesh-complete.mesh.vtu'))
    for a in ('GlobalElementID', 'ModelRegionID'):
        if a not in m.cell_data:
            fault('meshio svmp: no cell array %s' % a)
    m = meshio.read(os.path.join(d, 'msh22/heart.msh'))
    same_names('meshio msh22', m.field_data, allnames)
    m = meshio.read(os.path.join(d, 'abaqus/heart.inp'))
    same_names('meshio abaqus cell sets', m.cell_sets, truth.regions)
    same_names('meshio abaqus point sets', m.point_sets, allnames)
    m = meshio.read(os.path.join(d, 'xdmf/heart.xdmf'))
    same_names('meshio xdmf', m.field_data, truth.regions)
    if not np.array_equal(np.sort(m.cell_data['cell_tags'][0]), np.sort(truth.treg)):
        fault('meshio xdmf: cell tags differ')
    m = meshio.read(os.path.join(d, 'xdmf/facets.xdmf'))
    same_names('meshio xdmf facets', m.field_data, truth.surfaces)
    r = vtk.vtkXMLUnstructuredGridReader()
    r.SetFileName(os.path.join(d, 'vtu/heart.vtu'))
    r.Update()
    g = r.GetOutput()
    fd = g.GetFieldData()
    same_names('vtk vtu', [fd.GetArrayName(i) for i in range(fd.GetNumberOfArrays())], truth.regions)
    if g.GetNumberOfCells() != len(truth.tets) or g.GetNumberOfPoints() != len(truth.xyz):
        fault('vtk vtu: %d cells, %d points' % (g.GetNumberOfCells(), g.GetNumberOfPoints()))
    reg = vtk_to_numpy(g.GetCellData().GetArray('region'))
    if not np.array_equal(reg, truth.treg):
        fault('vtk vtu: region array differs')
    for name, tag in truth.surfaces.items():
        r = vtk.vtkXMLPolyDataReader()
        r.SetFileName(os.path.join(d, 'vtu/surfaces/%s.vtp' % name))
        r.Update()
        p = r.GetOutput()
        fd = p.GetFieldData()
        if fd.GetNumberOfArrays() != 1 or fd.GetArrayName(0) != name:
            fault('vtk vtp %s: field data does not name it' % name)
        if p.GetNumberOfCells() != int(np.sum(truth.ttag == tag)):
            fault('vtk vtp %s: %d triangles' % (name, p.GetNumberOfCells()))
    r = vtk.vtkOpenFOAMReader()
    r.SetFileName(os.path.join(d, 'openfoam/case.foam'))
    r.UpdateInformation()
    patches = [r.GetPatchArrayName(i) for i in range(r.GetNumberOfPatchArrays())]
    for n in truth.pool_surfaces():
        if 'patch/' + n not in patches:
            fault('vtk openfoam: no patch %s in %s' % (n, patches))
    r.Update()
    if r.GetOutput().GetNumberOfBlocks() < 1:
        fault('vtk openfoam: nothing read')


def febio(truth, d):
    root = ET.parse(os.path.join(d, 'febio/heart.feb')).getroot()
    if root.tag != 'febio_spec' or root.get('version') != '4.0':
        fault('febio: root %s version %s' % (root.tag, root.get('version')))
    if root.find('Module') is None or root.find('Module').get('type') != 'solid':
        fault('febio: no <Module type="solid"/>')
    mesh = root.find('Mesh')
    nodes = mesh.find('Nodes').findall('node')
    ids = [int(n.get('id')) for n in nodes]
    if ids != list(range(1, len(truth.xyz) + 1)):
        fault('febio: node ids are not 1..%d' % len(truth.xyz))
    xyz = np.array([[float(v) for v in n.text.split(',')] for n in nodes])
    if not np.allclose(xyz, truth.xyz, atol=1e-6):
        fault('febio: coordinates are not the mesh millimetres')
    elems, next_id = {}, 1
    for block in mesh.findall('Elements'):
        if block.get('type') != 'tet4':
            fault('febio: Elements type %s' % block.get('type'))
        rows = block.findall('elem')
        if [int(e.get('id')) for e in rows] != list(range(next_id, next_id + len(rows))):
            fault('febio: element ids of %s are not consecutive from %d' % (block.get('name'), next_id))
        next_id += len(rows)
        for e in rows:
            elems[int(e.get('id'))] = (block.get('name'), [int(v) - 1 for v in e.text.split(',')])
    same_names('febio Elements', {n for n, _ in elems.values()}, truth.regions)
    for name, tag in truth.regions.items():
        got = sum(1 for n, _ in elems.values() if n == name)
        if got != int(np.sum(truth.treg == tag)):
            fault('febio: %s has %d elements' % (name, got))
    surfs = {s.get('name'): s for s in mesh.findall('Surface')}
    same_names('febio Surface', surfs, truth.surfaces)
    for name, s in surfs.items():
        tri = s.findall('tri3')
        if len(tri) != int(np.sum(truth.ttag == truth.surfaces[name])):
            fault('febio: Surface %s has %d tri3' % (name, len(tri)))
        for t in tri:
            truth.check_face('febio', name, [int(v) - 1 for v in t.text.split(',')])
    sets = {s.get('name'): s for s in mesh.findall('NodeSet')}
    same_names('febio NodeSet', sets, truth.surfaces)
    for name, s in sets.items():
        want = np.unique(truth.tris[truth.ttag == truth.surfaces[name]]) + 1
        if not np.array_equal(np.array([int(v) for v in s.text.split(',')]), want):
            fault('febio: NodeSet %s differs' % name)
    doms = {s.get('name'): s.get('mat') for s in root.find('MeshDomains').findall('SolidDomain')}
    mats = {m.get('name') for m in root.find('Material').findall('material')}
    same_names('febio SolidDomain', doms, truth.regions)
    for name, mat in doms.items():
        if mat not in mats:
            fault('febio: SolidDomain %s names material %s, which is not defined' % (name, mat))


def read_counted(path, what):
    with open(path) as f:
        lines = f.read().split('\n')
    n = int(lines[0].split()[0])
    body = [l for l in lines[1:] if l.strip()]
    if len(body) != n:
        fault('%s: header says %d, %d lines follow' % (what, n, len(body)))
    return body


def opencarp(truth, d):
    pts = read_counted(os.path.join(d, 'opencarp/heart.pts'), 'opencarp pts')
    xyz = np.array([[float(v) for v in l.split()] for l in pts])
    if xyz.shape != truth.xyz.shape or not np.allclose(xyz, truth.xyz * 1000, atol=1e-3):
        fault('opencarp: heart.pts is not the mesh in micrometres')
    elem = read_counted(os.path.join(d, 'opencarp/heart.elem'), 'opencarp elem')
    rows = [l.split() for l in elem]
    if any(r[0] != 'Tt' or len(r) != 6 for r in rows):
        fault('opencarp: an element line is not "Tt n0 n1 n2 n3 tag"')
    tets = np.array([[int(v) for v in r[1:5]] for r in rows])
    tags = np.array([int(r[5]) for r in rows])
    if tets.min() != 0 or tets.max() != len(truth.xyz) - 1:
        fault('opencarp: node indices span %d..%d, want 0..%d' % (tets.min(), tets.max(), len(truth.xyz) - 1))
    if not np.array_equal(np.sort(tets, axis=1), np.sort(truth.tets, axis=1)) or \
            not np.array_equal(tags, truth.treg):
        fault('opencarp: elements or region tags differ from the mesh')
    for name, tag in truth.surfaces.items():
        surf = read_counted(os.path.join(d, 'opencarp/heart.%s.surf' % name), 'opencarp surf ' + name)
        if len(surf) != int(np.sum(truth.ttag == tag)):
            fault('opencarp: %s.surf has %d triangles' % (name, len(surf)))
        for l in surf:
            v = l.split()
            if v[0] != 'Tr':
                fault('opencarp: %s.surf line "%s"' % (name, l))
                break
            truth.check_face('opencarp', name, [int(a) for a in v[1:4]])
        with open(os.path.join(d, 'opencarp/heart.%s.vtx' % name)) as f:
            vtx = f.read().split()
        want = np.unique(truth.tris[truth.ttag == tag])
        if int(vtx[0]) != len(want) or vtx[1] != 'intra' or \
                not np.array_equal(np.array([int(a) for a in vtx[2:]]), want):
            fault('opencarp: %s.vtx is not its 0-based nodes' % name)


def svmp(truth, d):
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy
    base = os.path.join(d, 'svmp')
    root = ET.parse(os.path.join(base, 'solver.xml')).getroot()
    mesh = root.find('Add_mesh')
    vtu = os.path.join(base, mesh.find('Mesh_file_path').text.strip())
    r = vtk.vtkXMLUnstructuredGridReader()
    r.SetFileName(vtu)
    r.Update()
    g = r.GetOutput()
    nid = vtk_to_numpy(g.GetPointData().GetArray('GlobalNodeID'))
    eid = vtk_to_numpy(g.GetCellData().GetArray('GlobalElementID'))
    if not np.array_equal(nid, np.arange(1, len(truth.xyz) + 1)):
        fault('svmp: GlobalNodeID is not 1..%d' % len(truth.xyz))
    if not np.array_equal(eid, np.arange(1, len(truth.tets) + 1)):
        fault('svmp: GlobalElementID is not 1..%d' % len(truth.tets))
    faces = {f.get('name'): f.find('Face_file_path').text.strip() for f in mesh.findall('Add_face')}
    same_names('svmp Add_face', faces, truth.surfaces)
    for name, path in faces.items():
        r = vtk.vtkXMLPolyDataReader()
        r.SetFileName(os.path.join(base, path))
        r.Update()
        p = r.GetOutput()
        gn = vtk_to_numpy(p.GetPointData().GetArray('GlobalNodeID'))
        ge = vtk_to_numpy(p.GetCellData().GetArray('GlobalElementID'))
        polys = vtk_to_numpy(p.GetPolys().GetConnectivityArray()).reshape(-1, 3)
        if len(polys) != int(np.sum(truth.ttag == truth.surfaces[name])):
            fault('svmp: face %s has %d triangles' % (name, len(polys)))
        if gn.min() < 1 or ge.min() < 1 or ge.max() > len(truth.tets):
            fault('svmp: face %s ids are not 1-based' % name)
        for tri, e in zip(polys, ge):
            truth.check_face('svmp', name, [int(gn[i]) - 1 for i in tri], int(e) - 1)


def main():
    msh, d, check = sys.argv[1:4]
    truth = Truth(msh, d)
    {'readers': readers, 'febio': febio, 'opencarp': opencarp, 'svmp': svmp}[check](truth, d)
    for f in FAULTS[:10]:
        print(f)
    if not FAULTS:
        print('%s: %d regions, %d surfaces, %d tets checked' %
              (check, len(truth.regions), len(truth.surfaces), len(truth.tets)))
    return 1 if FAULTS else 0


if __name__ == '__main__':
    sys.exit(main())
