// Two boxes sharing the face x = 0, meshed conformally: a test input for
// tests/unit/test_msh.c, which runs `gmsh -3` on it.
// Box 1: [-10, 0] x [5, 13] x [2, 8], volume 480; box 2: [0, 6] x [5, 13] x [2, 8], volume 288.
SetFactory("OpenCASCADE");
Box(1) = {-10, 5, 2, 10, 8, 6};
Box(2) = {0, 5, 2, 6, 8, 6};
BooleanFragments{ Volume{1}; Delete; }{ Volume{2}; Delete; }
Mesh.MeshSizeMax = 4;
e = 1e-3;
Physical Volume("heart_ventricle_left", 3) = {1};
Physical Volume("heart_atrium_left", 2) = {2};
// the shared face, area 48
Physical Surface("mitral_valve", 5) = Surface In BoundingBox{-e, 5 - e, 2 - e, e, 13 + e, 8 + e};
// x = -10 and x = 6, area 48 each
Physical Surface("outlet_aorta", 4) = Surface In BoundingBox{-10 - e, 5 - e, 2 - e, -10 + e, 13 + e, 8 + e};
Physical Surface("epicardium", 2) = Surface In BoundingBox{6 - e, 5 - e, 2 - e, 6 + e, 13 + e, 8 + e};
// z = 8 across both boxes, area 128
Physical Surface("endocardium_lv", 7) = Surface In BoundingBox{-10 - e, 5 - e, 8 - e, 6 + e, 13 + e, 8 + e};
