#!/usr/bin/python3
"""The caps of a twin-mesh heart.msh: each inlet_* and outlet_* surface is
planar and perpendicular to its vessel, whose wall meets it at a right angle.

usage: caps.py HEART.MSH PLANE_TOL_MM ANGLE_TOL_DEG NAME...

For each NAME: the largest distance of its nodes from their best plane
(<= PLANE_TOL_MM), and the angle between the cap's normal and the vessel's
axis (<= ANGLE_TOL_DEG). The axis is the direction from the centre of the
vessel's wall triangles next to the cap (within one cap radius of its rim)
to the cap's centre: for a straight tube cut square it is the normal.
Prints one line per cap; exits 1 when a cap is missing or out of tolerance.
"""
import sys

import meshio
import numpy as np


def main():
    path, plane_tol, angle_tol = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    names = sys.argv[4:]
    m = meshio.read(path)
    tags = {name: int(v[0]) for name, v in m.field_data.items() if int(v[1]) == 2}
    tris, phys = [], []
    for block, data in zip(m.cells, m.cell_data["gmsh:physical"]):
        if block.type == "triangle":
            tris.append(block.data)
            phys.append(data)
    tris, phys = np.concatenate(tris), np.concatenate(phys)
    xyz = m.points
    bad = 0
    for name in names:
        if name not in tags:
            print(f"{name}: missing")
            bad += 1
            continue
        t = tris[phys == tags[name]]
        nodes = np.unique(t)
        p = xyz[nodes]
        c = p.mean(axis=0)
        _, _, vt = np.linalg.svd(p - c)
        n = vt[2]
        off = np.abs((p - c) @ n).max()
        radius = np.sqrt(np.linalg.norm(np.cross(xyz[t[:, 1]] - xyz[t[:, 0]], xyz[t[:, 2]] - xyz[t[:, 0]]),
                                        axis=1).sum() / 2 / np.pi)
        # the wall: the other triangles that bound the same region, near the rim
        cap_nodes = set(nodes.tolist())
        edge_count = {}
        for tri in t:
            for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[2], tri[0])):
                k = (min(a, b), max(a, b))
                edge_count[k] = edge_count.get(k, 0) + 1
        rim = np.unique([v for k, c2 in edge_count.items() if c2 == 1 for v in k])
        # the surfaces that meet the cap at its rim: the vessel's wall
        rimset = set(rim.tolist())
        walls = {int(ph) for tri, ph in zip(tris, phys) if ph != tags[name] and rimset.intersection(tri.tolist())}
        others = tris[np.isin(phys, list(walls))]
        cen = xyz[others].mean(axis=1)
        # distance of each other triangle's centre to the rim
        d = np.min(np.linalg.norm(cen[:, None, :] - xyz[rim][None, :, :], axis=2), axis=1)
        touch = np.array([len(cap_nodes.intersection(tri.tolist())) == 0 for tri in others])
        near = (d < radius) & touch
        if near.sum() < 3:
            print(f"{name}: no wall next to it")
            bad += 1
            continue
        axis = c - cen[near].mean(axis=0)
        angle = np.degrees(np.arccos(min(1.0, abs(axis @ n) / np.linalg.norm(axis))))
        ok = off <= plane_tol and angle <= angle_tol
        bad += not ok
        print(f"{name}: {len(t)} triangles, radius {radius:.1f} mm, off its plane {off:.3g} mm, "
              f"{angle:.1f} degrees from the vessel's axis{'' if ok else ' (out of tolerance)'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
