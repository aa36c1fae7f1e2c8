// A phantom pair of ventricles for the fibre tests. The LV wall is lv.geo's
// (endocardium 20 x 20 x 50 mm, epicardium 28 x 28 x 58 mm, centred at the
// origin); the RV wall (heart_myocardium_right, 8) is the shell between the
// ellipsoids 26 x 20 x 44 mm (endocardium) and 31 x 25 x 49 mm
// (epicardium), both centred at (20, 0, 0), outside the LV. The RV cavity is
// left empty, so the LV wall between the cavities is the septum. All is cut
// by the base plane z = 0. Only the volumes carry physical groups: the test
// tags the boundary triangles from these ellipsoids. h is the mesh size:
//   gmsh -3 -setnumber h 3 -format msh41 biv.geo -o biv.msh
SetFactory("OpenCASCADE");
Geometry.OCCBoundsUseStl = 1;
DefineConstant[ h = 3 ];
Mesh.CharacteristicLengthMax = h;
Mesh.CharacteristicLengthMin = h / 2;

Sphere(1) = {0, 0, 0, 1};
Dilate {{0, 0, 0}, {28, 28, 58}} { Volume{1}; }
Sphere(2) = {0, 0, 0, 1};
Dilate {{0, 0, 0}, {20, 20, 50}} { Volume{2}; }
Sphere(3) = {0, 0, 0, 1};
Dilate {{0, 0, 0}, {31, 25, 49}} { Volume{3}; }
Translate {20, 0, 0} { Volume{3}; }
Sphere(4) = {0, 0, 0, 1};
Dilate {{0, 0, 0}, {26, 20, 44}} { Volume{4}; }
Translate {20, 0, 0} { Volume{4}; }
Box(5) = {-60, -60, 0, 140, 120, 70};

BooleanDifference(6) = { Volume{3}; Delete; }{ Volume{1, 4, 5}; };
BooleanDifference(7) = { Volume{1}; Delete; }{ Volume{2, 5}; Delete; };
Recursive Delete { Volume{4}; }
BooleanFragments{ Volume{6, 7}; Delete; }{}

lv() = Volume In BoundingBox{-28.5, -28.5, -58.5, 28.5, 28.5, 0.5};
rv() = Volume{:};
rv() -= lv();
Physical Volume("heart_myocardium", 1) = lv();
Physical Volume("heart_myocardium_right", 8) = rv();
