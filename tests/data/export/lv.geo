// A thick-walled cylindrical "left ventricle" for the twin-export tests:
// a myocardium shell (heart_myocardium, 1) around a blood cavity
// (heart_ventricle_left, 3) that opens at the base (z = 40 mm) through a
// mitral inlet cap and an aortic outlet cap. Names follow common/surfaces.h.
// Mesh it with: gmsh -3 -format msh41 lv.geo -o heart.msh
SetFactory("OpenCASCADE");
Mesh.CharacteristicLengthMax = 5;
Mesh.CharacteristicLengthMin = 2;

Cylinder(1) = {0, 0, 0, 0, 0, 40, 20};   // epicardium
Cylinder(2) = {0, 0, 6, 0, 0, 28, 14};   // cavity
Cylinder(3) = {-6, 0, 34, 0, 0, 6, 5};   // mitral channel
Cylinder(4) = {7, 0, 34, 0, 0, 6, 4};    // aortic channel
BooleanUnion(5) = { Volume{2}; Delete; }{ Volume{3, 4}; Delete; };
BooleanFragments{ Volume{1}; Delete; }{ Volume{5}; Delete; }

blood() = Volume In BoundingBox{-14.1, -14.1, 5.9, 14.1, 14.1, 40.1};
myo() = Volume{:};
myo() -= blood();

mitral() = Surface In BoundingBox{-11.1, -5.1, 39.9, -0.9, 5.1, 40.1};
aortic() = Surface In BoundingBox{2.9, -4.1, 39.9, 11.1, 4.1, 40.1};
endo() = Abs(Boundary{ Volume{blood()}; });
endo() -= mitral();
endo() -= aortic();
epi() = Abs(Boundary{ Volume{myo()}; });
epi() -= endo();

Physical Volume("heart_myocardium", 1) = myo();
Physical Volume("heart_ventricle_left", 3) = blood();
Physical Surface("endocardium_lv", 1) = endo();
Physical Surface("epicardium", 2) = epi();
Physical Surface("mitral_valve", 3) = mitral();
Physical Surface("aortic_valve", 4) = aortic();
