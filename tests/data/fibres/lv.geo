// A phantom left ventricle for the fibre tests: a thick-walled prolate
// ellipsoid (endocardium 20 x 20 x 50 mm, epicardium 28 x 28 x 58 mm, long
// axis z, apex at the bottom) cut by the base plane z = 0. The wall is
// heart_myocardium (1); its base ring, where it would meet the left atrium,
// is endocardium_la (common/surfaces.h). h is the mesh size in mm:
//   gmsh -3 -setnumber h 2.5 -format msh41 lv.geo -o lv.msh
SetFactory("OpenCASCADE");
Geometry.OCCBoundsUseStl = 1; // exact boxes for the selections below
DefineConstant[ h = 2.5 ];
Mesh.CharacteristicLengthMax = h;
Mesh.CharacteristicLengthMin = h / 2;

Sphere(1) = {0, 0, 0, 1};
Dilate {{0, 0, 0}, {28, 28, 58}} { Volume{1}; }
Sphere(2) = {0, 0, 0, 1};
Dilate {{0, 0, 0}, {20, 20, 50}} { Volume{2}; }
Box(3) = {-40, -40, 0, 80, 80, 70};
BooleanDifference(4) = { Volume{1}; Delete; }{ Volume{2, 3}; Delete; };

base() = Surface In BoundingBox{-28.1, -28.1, -0.01, 28.1, 28.1, 0.01};
endo() = Surface In BoundingBox{-20.5, -20.5, -50.5, 20.5, 20.5, 0.5};
epi() = Abs(Boundary{ Volume{4}; });
epi() -= base();
epi() -= endo();

Physical Volume("heart_myocardium", 1) = {4};
Physical Surface("epicardium", 1) = epi();
Physical Surface("endocardium_lv", 2) = endo();
Physical Surface("endocardium_la", 3) = base();
