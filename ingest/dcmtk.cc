/*
 * dcmtk: the shim between dcm2twin's C and DCMTK, behind ingest/dcmtk.h.
 * Sections: shared helpers, then writing. Every extern "C" entry point is one
 * try/catch that turns an exception into err; nothing C++ leaves this file.
 */
#include "dcmtk.h"

extern "C" {
#include "files.h"
}

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/dcmjpls/djrparam.h>

/* ---- shared helpers ------------------------------------------------------ */

namespace {

/* An error with its dcm2twin code; what() is the message without the path. */
struct failure : std::runtime_error {
	enum twin_code code;
	failure(enum twin_code c, const std::string &msg) : std::runtime_error(msg), code(c) {}
};

void check(const OFCondition &cond, const char *what)
{
	if (cond.bad())
		throw failure(TWIN_EDEP, std::string(what) + ": " + cond.text());
}

/* The exception in flight as err; for the catch blocks of the entry points. */
int set_error(struct twin_err *err, const char *path)
{
	try {
		throw;
	} catch (const failure &e) {
		return twin_err_set(err, e.code, "cannot write '%s': %s", path, e.what());
	} catch (const std::bad_alloc &) {
		return twin_err_set(err, TWIN_EFAIL, "cannot write '%s': out of memory", path);
	} catch (const std::exception &e) {
		return twin_err_set(err, TWIN_EDEP, "cannot write '%s': %s", path, e.what());
	} catch (...) {
		return twin_err_set(err, TWIN_EFAIL, "cannot write '%s': unknown exception", path);
	}
}

void need_dictionary()
{
	if (!dcmDataDict.isDictionaryLoaded())
		throw failure(TWIN_EDEP, "dcmtk has no data dictionary (set DCMDICTPATH)");
}

} // namespace

/* ---- writing ------------------------------------------------------------- */

namespace {

struct ts_info {
	const char *name;
	E_TransferSyntax xfer;
};

const ts_info ts_table[TWIN_DCM_TS_COUNT] = {
	{"explicit", EXS_LittleEndianExplicit},
	{"implicit", EXS_LittleEndianImplicit},
	{"bigendian", EXS_BigEndianExplicit},
	{"deflate", EXS_DeflatedLittleEndianExplicit},
	{"rle", EXS_RLELossless},
	{"jpeg-lossless", EXS_JPEGProcess14SV1},
	{"jpeg-ls", EXS_JPEGLSLossless},
};

/*
 * The encoders are registered on first use and deregistered at exit (a
 * function-local static), so valgrind sees nothing of them.
 */
struct encoders {
	encoders()
	{
		DcmRLEEncoderRegistration::registerCodecs();
		DJEncoderRegistration::registerCodecs();
		/* raw encoding: the cooked path leaves padding bytes uninitialised */
		DJLSEncoderRegistration::registerCodecs(0, 0, 0, 0, OFFalse);
	}
	~encoders()
	{
		DJLSEncoderRegistration::cleanup();
		DJEncoderRegistration::cleanup();
		DcmRLEEncoderRegistration::cleanup();
	}
};

void register_encoders()
{
	static encoders once;
}

/* A DS value: at most 16 characters, no "-0", tiny rounding noise as 0. */
std::string ds(double v)
{
	char buf[40];

	if (std::fabs(v) < 5e-11)
		v = 0.0;
	for (int prec = 10; prec > 0; prec--) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strlen(buf) <= 16)
			break;
	}
	return buf;
}

std::string ds_list(const double *v, size_t n)
{
	std::string s;

	for (size_t i = 0; i < n; i++)
		s += (i ? "\\" : "") + ds(v[i]);
	return s;
}

void put(DcmItem *item, const DcmTagKey &tag, const char *value)
{
	check(item->putAndInsertString(DcmTag(tag), value ? value : ""), DcmTag(tag).getTagName());
}

void put(DcmItem *item, const DcmTagKey &tag, const std::string &value)
{
	put(item, tag, value.c_str());
}

void put_ds(DcmItem *item, const DcmTagKey &tag, double v)
{
	put(item, tag, ds(v));
}

void put_is(DcmItem *item, const DcmTagKey &tag, long v)
{
	put(item, tag, std::to_string(v));
}

void put_us(DcmItem *item, const DcmTagKey &tag, Uint16 v)
{
	check(item->putAndInsertUint16(DcmTag(tag), v), DcmTag(tag).getTagName());
}

/* A new item appended to the sequence tag of item (the sequence is made if missing). */
DcmItem *add_item(DcmItem *item, const DcmTagKey &tag)
{
	DcmItem *out = NULL;

	check(item->findOrCreateSequenceItem(DcmTag(tag), out, -2), DcmTag(tag).getTagName());
	return out;
}

void put_empty_sequence(DcmItem *item, const DcmTagKey &tag)
{
	check(item->insertEmptyElement(DcmTag(tag)), DcmTag(tag).getTagName());
}

/* The coded concept macro: value, scheme, meaning. */
void put_code(DcmItem *item, const char *value, const char *scheme, const char *meaning)
{
	put(item, DCM_CodeValue, value);
	put(item, DCM_CodingSchemeDesignator, scheme);
	put(item, DCM_CodeMeaning, meaning);
}

void validate(const twin_dcm_series *s, const char *sop_uid, const twin_dcm_frame *frames, size_t n)
{
	if (s->modality != TWIN_DCM_CT && s->modality != TWIN_DCM_MR)
		throw failure(TWIN_EUSAGE, "unknown modality " + std::to_string(int(s->modality)));
	if (int(s->ts) < 0 || s->ts >= TWIN_DCM_TS_COUNT)
		throw failure(TWIN_EUSAGE, "unknown transfer syntax " + std::to_string(int(s->ts)));
	if (s->rows == 0 || s->columns == 0 || s->rows > 65535 || s->columns > 65535)
		throw failure(TWIN_EUSAGE, "bad image size " + std::to_string(s->columns) + "x" +
					       std::to_string(s->rows));
	if (s->bits_stored < 12 || s->bits_stored > 16)
		throw failure(TWIN_EUSAGE, "bits stored " + std::to_string(s->bits_stored) +
					       " is outside 12..16");
	if (!(s->pixel_spacing[0] > 0) || !(s->pixel_spacing[1] > 0))
		throw failure(TWIN_EUSAGE, "pixel spacing must be positive");
	const char *uids[] = {sop_uid, s->study_uid, s->series_uid, s->frame_of_reference_uid};
	for (const char *u : uids)
		if (!u || !*u || strlen(u) > 64 || strspn(u, "0123456789.") != strlen(u))
			throw failure(TWIN_EUSAGE, std::string("bad uid '") + (u ? u : "(null)") + "'");
	if (n == 0)
		throw failure(TWIN_EUSAGE, "no frames");
	for (size_t f = 0; f < n; f++)
		if (!frames[f].pixels)
			throw failure(TWIN_EUSAGE, "frame " + std::to_string(f + 1) + " has no pixels");
}

/* Stored values as 16-bit words, frame after frame; checks they fit bits_stored. */
std::vector<Uint16> pixel_words(const twin_dcm_series *s, const twin_dcm_frame *frames, size_t n)
{
	size_t per = size_t(s->rows) * s->columns;
	std::vector<Uint16> words(per * n);
	long lo = s->pixel_signed ? -(1L << (s->bits_stored - 1)) : 0;
	long hi = s->pixel_signed ? (1L << (s->bits_stored - 1)) - 1 : (1L << s->bits_stored) - 1;

	for (size_t f = 0; f < n; f++) {
		memcpy(&words[f * per], frames[f].pixels, per * sizeof(Uint16));
		for (size_t p = 0; p < per; p++) {
			Uint16 w = words[f * per + p];
			long v = s->pixel_signed ? long(Sint16(w)) : long(w);
			if (v < lo || v > hi)
				throw failure(TWIN_EUSAGE, "frame " + std::to_string(f + 1) + ": value " +
							       std::to_string(v) + " does not fit " +
							       std::to_string(s->bits_stored) + " bits");
		}
	}
	return words;
}

void put_patient_study(DcmItem *d, const twin_dcm_series *s)
{
	put(d, DCM_SpecificCharacterSet, "ISO_IR 100");
	put(d, DCM_PatientName, s->patient_name);
	put(d, DCM_PatientID, s->patient_id);
	put(d, DCM_PatientBirthDate, s->patient_birth_date);
	put(d, DCM_PatientSex, s->patient_sex);
	put(d, DCM_StudyInstanceUID, s->study_uid);
	put(d, DCM_StudyID, s->study_id);
	put(d, DCM_StudyDate, s->study_date);
	put(d, DCM_StudyTime, s->study_time);
	put(d, DCM_StudyDescription, s->study_description);
	put(d, DCM_AccessionNumber, s->accession_number);
	put(d, DCM_ReferringPhysicianName, s->referring_physician);
	put(d, DCM_InstitutionName, s->institution);
	put(d, DCM_Manufacturer, s->manufacturer);
	put(d, DCM_ManufacturerModelName, s->model_name);
	put(d, DCM_SoftwareVersions, s->software_version);
	put(d, DCM_DeviceSerialNumber, "0001");
}

void put_series(DcmItem *d, const twin_dcm_series *s, const char *sop_class, const char *sop_uid,
		int instance_number)
{
	put(d, DCM_SOPClassUID, sop_class);
	put(d, DCM_SOPInstanceUID, sop_uid);
	put(d, DCM_Modality, s->modality == TWIN_DCM_CT ? "CT" : "MR");
	put(d, DCM_SeriesInstanceUID, s->series_uid);
	put_is(d, DCM_SeriesNumber, s->series_number);
	put(d, DCM_SeriesDescription, s->series_description);
	put(d, DCM_SeriesDate, s->study_date);
	put(d, DCM_SeriesTime, s->study_time);
	put(d, DCM_ContentDate, s->study_date);
	put(d, DCM_ContentTime, s->study_time);
	put(d, DCM_BodyPartExamined, s->body_part);
	put(d, DCM_PatientPosition, "HFS");
	put(d, DCM_FrameOfReferenceUID, s->frame_of_reference_uid);
	put(d, DCM_PositionReferenceIndicator, "");
	put_is(d, DCM_InstanceNumber, instance_number);
	put_is(d, DCM_AcquisitionNumber, 1);
	put(d, DCM_BurnedInAnnotation, "NO");
}

void put_pixel_module(DcmItem *d, const twin_dcm_series *s)
{
	put_us(d, DCM_SamplesPerPixel, 1);
	put(d, DCM_PhotometricInterpretation, "MONOCHROME2");
	put_us(d, DCM_Rows, Uint16(s->rows));
	put_us(d, DCM_Columns, Uint16(s->columns));
	put_us(d, DCM_BitsAllocated, 16);
	put_us(d, DCM_BitsStored, Uint16(s->bits_stored));
	put_us(d, DCM_HighBit, Uint16(s->bits_stored - 1));
	put_us(d, DCM_PixelRepresentation, s->pixel_signed ? 1 : 0);
}

void put_rescale(DcmItem *item, const twin_dcm_series *s)
{
	put_ds(item, DCM_RescaleIntercept, s->rescale_intercept);
	put_ds(item, DCM_RescaleSlope, s->rescale_slope);
	put(item, DCM_RescaleType, s->modality == TWIN_DCM_CT ? "HU" : "US");
}

void put_window(DcmItem *item, const twin_dcm_series *s)
{
	put_ds(item, DCM_WindowCenter, s->window_center);
	put_ds(item, DCM_WindowWidth, s->window_width);
}

/* The acquisition elements of the classic CT and MR image modules. */
void put_acquisition(DcmItem *d, const twin_dcm_series *s)
{
	if (s->modality == TWIN_DCM_CT) {
		put_ds(d, DCM_KVP, s->kvp);
		put_ds(d, DCM_GantryDetectorTilt, s->gantry_tilt);
		put(d, DCM_ConvolutionKernel, s->convolution_kernel);
		put_ds(d, DCM_DataCollectionDiameter, 500);
		put_ds(d, DCM_ReconstructionDiameter, s->columns * s->pixel_spacing[1]);
		put(d, DCM_RotationDirection, "CW");
		put_is(d, DCM_ExposureTime, 280);
		put_is(d, DCM_XRayTubeCurrent, 300);
		return;
	}
	put(d, DCM_ScanningSequence, "GR");
	put(d, DCM_SequenceVariant, "SS");
	put(d, DCM_ScanOptions, s->heart_rate > 0 ? "CG" : "");
	put(d, DCM_MRAcquisitionType, "2D");
	put_ds(d, DCM_RepetitionTime, s->repetition_time);
	put_ds(d, DCM_EchoTime, s->echo_time);
	put_is(d, DCM_EchoTrainLength, 1);
	put_ds(d, DCM_FlipAngle, s->flip_angle);
	put_ds(d, DCM_MagneticFieldStrength, s->field_strength);
	put(d, DCM_ImagedNucleus, "1H");
	put_ds(d, DCM_ImagingFrequency, 42.577478 * s->field_strength);
	put_ds(d, DCM_NumberOfAverages, 1);
}

/* Classic single-frame CT or MR. */
void build_slice(DcmItem *d, const twin_dcm_series *s, const char *sop_uid, int instance_number,
		 const twin_dcm_frame *f)
{
	bool ct = s->modality == TWIN_DCM_CT;
	const double *o = s->orientation;
	double normal[3] = {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};

	put(d, DCM_ImageType, s->image_type);
	put_patient_study(d, s);
	put_series(d, s, ct ? UID_CTImageStorage : UID_MRImageStorage, sop_uid, instance_number);
	put(d, DCM_AcquisitionDate, s->study_date);
	put(d, DCM_AcquisitionTime, s->study_time);
	put_acquisition(d, s);
	put_ds(d, DCM_SliceThickness, s->slice_thickness);
	if (s->slice_spacing > 0)
		put_ds(d, DCM_SpacingBetweenSlices, s->slice_spacing);
	put(d, DCM_ImagePositionPatient, ds_list(f->position, 3));
	put(d, DCM_ImageOrientationPatient, ds_list(o, 6));
	put_ds(d, DCM_SliceLocation, f->position[0] * normal[0] + f->position[1] * normal[1] +
					     f->position[2] * normal[2]);
	if (s->heart_rate > 0) {
		put_ds(d, DCM_TriggerTime, f->trigger_time);
		put_ds(d, DCM_NominalInterval, 60000.0 / s->heart_rate);
		put_is(d, DCM_HeartRate, lround(s->heart_rate));
		put_ds(d, DCM_NominalPercentageOfCardiacPhase, f->cardiac_percent);
		put_is(d, DCM_TemporalPositionIdentifier, f->temporal_position);
		put_is(d, DCM_NumberOfTemporalPositions, s->temporal_positions);
	}
	put_pixel_module(d, s);
	put(d, DCM_PixelSpacing, ds_list(s->pixel_spacing, 2));
	if (s->window_width > 0)
		put_window(d, s);
	if (s->rescale_slope != 0)
		put_rescale(d, s);
}

/* A UID of the object's own: its SOP instance UID with one more component. */
std::string derived_uid(const char *sop_uid, int n)
{
	std::string uid = std::string(sop_uid) + "." + std::to_string(n);

	if (uid.size() > 64)
		throw failure(TWIN_EUSAGE, "uid '" + std::string(sop_uid) + "' is too long to derive uids from");
	return uid;
}

/* The frame type item shared by Enhanced CT and MR: type, pixel presentation, volume. */
void put_frame_type(DcmItem *item, const std::string &type, bool ct)
{
	put(item, DCM_FrameType, type);
	put(item, DCM_PixelPresentation, "MONOCHROME");
	put(item, DCM_VolumetricProperties, "VOLUME");
	put(item, DCM_VolumeBasedCalculationTechnique, "NONE");
	if (!ct) {
		put(item, DCM_ComplexImageComponent, "MAGNITUDE");
		put(item, DCM_AcquisitionContrast, "T1");
	}
}

/* Enhanced image types have four values; the fourth says "no derived contrast". */
std::string enhanced_image_type(const twin_dcm_series *s)
{
	std::string t = s->image_type ? s->image_type : "ORIGINAL\\PRIMARY\\AXIAL";
	size_t values = 1;

	for (char c : t)
		values += c == '\\';
	if (values != 3)
		return t;
	/* the third value is the image flavour, where a volume is VOLUME, not AXIAL */
	if (t.size() > 6 && t.compare(t.size() - 6, 6, "\\AXIAL") == 0)
		t.replace(t.size() - 5, 5, "VOLUME");
	return t + "\\NONE";
	return t;
}

void put_shared_ct(DcmItem *g, const twin_dcm_series *s, const char *sop_uid)
{
	DcmItem *it = add_item(g, DCM_IrradiationEventIdentificationSequence);
	put(it, DCM_IrradiationEventUID, derived_uid(sop_uid, 2));

	it = add_item(g, DCM_CTAcquisitionTypeSequence);
	put(it, DCM_AcquisitionType, "SPIRAL");
	put(it, DCM_ConstantVolumeFlag, "NO");
	put(it, DCM_FluoroscopyFlag, "NO");

	it = add_item(g, DCM_CTAcquisitionDetailsSequence);
	put_ds(it, DCM_DataCollectionDiameter, 500);
	put_ds(it, DCM_GantryDetectorTilt, s->gantry_tilt);
	put_ds(it, DCM_TableHeight, 150);
	put(it, DCM_RotationDirection, "CW");
	put_ds(it, DCM_RevolutionTime, 0.28);
	put_ds(it, DCM_SingleCollimationWidth, 0.6);
	put_ds(it, DCM_TotalCollimationWidth, 38.4);

	it = add_item(g, DCM_CTTableDynamicsSequence);
	put_ds(it, DCM_TableSpeed, 100);
	put_ds(it, DCM_TableFeedPerRotation, 28);
	put_ds(it, DCM_SpiralPitchFactor, 0.2);

	it = add_item(g, DCM_CTGeometrySequence);
	put_ds(it, DCM_DistanceSourceToDetector, 1085.6);
	put_ds(it, DCM_DistanceSourceToDataCollectionCenter, 595);

	it = add_item(g, DCM_CTReconstructionSequence);
	put(it, DCM_ReconstructionAlgorithm, "FILTER_BACK_PROJ");
	put(it, DCM_ConvolutionKernel, s->convolution_kernel);
	put(it, DCM_ConvolutionKernelGroup, "SOFT_TISSUE");
	put_ds(it, DCM_ReconstructionDiameter, s->columns * s->pixel_spacing[1]);
	put(it, DCM_ReconstructionPixelSpacing, ds_list(s->pixel_spacing, 2));
	put(it, DCM_ReconstructionAngle, "360");
	put(it, DCM_ImageFilter, "NONE");

	it = add_item(g, DCM_CTExposureSequence);
	put(it, DCM_ExposureTimeInms, "280");
	put(it, DCM_XRayTubeCurrentInmA, "300");
	put(it, DCM_ExposureInmAs, "84");
	put(it, DCM_ExposureModulationType, "NONE");

	it = add_item(g, DCM_CTXRayDetailsSequence);
	put_ds(it, DCM_KVP, s->kvp);
	put(it, DCM_FocalSpots, "1.2");
	put(it, DCM_FilterType, "FLAT");
	put(it, DCM_FilterMaterial, "ALUMINUM");

	put_frame_type(add_item(g, DCM_CTImageFrameTypeSequence), enhanced_image_type(s), true);
}

void put_shared_mr(DcmItem *g, const twin_dcm_series *s)
{
	DcmItem *it = add_item(g, DCM_MRTimingAndRelatedParametersSequence);
	put_ds(it, DCM_RepetitionTime, s->repetition_time);
	put_ds(it, DCM_FlipAngle, s->flip_angle);
	put_is(it, DCM_EchoTrainLength, 1);
	put_is(it, DCM_RFEchoTrainLength, 0);
	put_is(it, DCM_GradientEchoTrainLength, 1);
	DcmItem *mode = add_item(it, DCM_OperatingModeSequence);
	put(mode, DCM_OperatingModeType, "STATIC FIELD");
	put(mode, DCM_OperatingMode, "IEC_NORMAL");
	DcmItem *sar = add_item(it, DCM_SpecificAbsorptionRateSequence);
	put(sar, DCM_SpecificAbsorptionRateDefinition, "IEC_WHOLE_BODY");
	put(sar, DCM_SpecificAbsorptionRateValue, "0.5");
	put(it, DCM_GradientOutputType, "DB_DT");
	put_ds(it, DCM_GradientOutput, 10);

	it = add_item(g, DCM_MRFOVGeometrySequence);
	put(it, DCM_InPlanePhaseEncodingDirection, "ROW");
	put_us(it, DCM_MRAcquisitionFrequencyEncodingSteps, Uint16(s->columns));
	put_us(it, DCM_MRAcquisitionPhaseEncodingStepsInPlane, Uint16(s->rows));
	put_ds(it, DCM_PercentSampling, 100);
	put_ds(it, DCM_PercentPhaseFieldOfView, 100);

	it = add_item(g, DCM_MREchoSequence);
	put(it, DCM_EffectiveEchoTime, ds(s->echo_time));

	it = add_item(g, DCM_MRModifierSequence);
	put(it, DCM_InversionRecovery, "NO");
	put(it, DCM_FlowCompensation, "NONE");
	put(it, DCM_Spoiling, "RF");
	put(it, DCM_T2Preparation, "NO");
	put(it, DCM_SpectrallySelectedExcitation, "NONE");
	put(it, DCM_SpatialPresaturation, "NONE");
	put(it, DCM_PartialFourier, "NO");
	put(it, DCM_ParallelAcquisition, "NO");

	it = add_item(g, DCM_MRImagingModifierSequence);
	put(it, DCM_MagnetizationTransfer, "NONE");
	put(it, DCM_BloodSignalNulling, "NO");
	put(it, DCM_Tagging, "NONE");
	put_ds(it, DCM_TransmitterFrequency, 42.577478 * s->field_strength);
	put_ds(it, DCM_PixelBandwidth, 930);

	it = add_item(g, DCM_MRReceiveCoilSequence);
	put(it, DCM_ReceiveCoilName, "BODY");
	put(it, DCM_ReceiveCoilManufacturerName, "");
	put(it, DCM_ReceiveCoilType, "BODY");
	put(it, DCM_QuadratureReceiveCoil, "NO");

	it = add_item(g, DCM_MRTransmitCoilSequence);
	put(it, DCM_TransmitCoilName, "BODY");
	put(it, DCM_TransmitCoilManufacturerName, "");
	put(it, DCM_TransmitCoilType, "BODY");

	it = add_item(g, DCM_MRAveragesSequence);
	put_ds(it, DCM_NumberOfAverages, 1);

	put_frame_type(add_item(g, DCM_MRImageFrameTypeSequence), enhanced_image_type(s), false);
}

void put_shared_groups(DcmItem *d, const twin_dcm_series *s, const char *sop_uid)
{
	DcmItem *g = add_item(d, DCM_SharedFunctionalGroupsSequence);
	DcmItem *it = add_item(g, DCM_PixelMeasuresSequence);

	put(it, DCM_PixelSpacing, ds_list(s->pixel_spacing, 2));
	put_ds(it, DCM_SliceThickness, s->slice_thickness);
	if (s->slice_spacing > 0)
		put_ds(it, DCM_SpacingBetweenSlices, s->slice_spacing);
	put(add_item(g, DCM_PlaneOrientationSequence), DCM_ImageOrientationPatient,
	    ds_list(s->orientation, 6));
	/* the enhanced IODs require the rescale: identity when the series has none */
	it = add_item(g, DCM_PixelValueTransformationSequence);
	if (s->rescale_slope != 0) {
		put_rescale(it, s);
	} else {
		put_ds(it, DCM_RescaleIntercept, 0);
		put_ds(it, DCM_RescaleSlope, 1);
		put(it, DCM_RescaleType, "US");
	}
	if (s->window_width > 0)
		put_window(add_item(g, DCM_FrameVOILUTSequence), s);
	it = add_item(g, DCM_FrameAnatomySequence);
	put(it, DCM_FrameLaterality, "U");
	put_code(add_item(it, DCM_AnatomicRegionSequence), "80891009", "SCT", "Heart");
	if (s->modality == TWIN_DCM_CT)
		put_shared_ct(g, s, sop_uid);
	else
		put_shared_mr(g, s);
}

void put_per_frame(DcmItem *d, const twin_dcm_series *s, const twin_dcm_frame *frames, size_t n)
{
	bool gated = s->heart_rate > 0;
	std::string when = std::string(s->study_date ? s->study_date : "") + (s->study_time ? s->study_time : "");

	for (size_t f = 0; f < n; f++) {
		const twin_dcm_frame *fr = &frames[f];
		DcmItem *g = add_item(d, DCM_PerFrameFunctionalGroupsSequence);
		DcmItem *it = add_item(g, DCM_FrameContentSequence);
		Uint32 index[2] = {Uint32(fr->stack_position), Uint32(fr->temporal_position)};

		put(it, DCM_FrameAcquisitionDateTime, when);
		put(it, DCM_FrameReferenceDateTime, when);
		put_ds(it, DCM_FrameAcquisitionDuration, 280);
		put(it, DCM_StackID, "1");
		check(it->putAndInsertUint32(DCM_InStackPositionNumber, Uint32(fr->stack_position)),
		      "InStackPositionNumber");
		if (gated)
			check(it->putAndInsertUint32(DCM_TemporalPositionIndex, Uint32(fr->temporal_position)),
			      "TemporalPositionIndex");
		check(it->putAndInsertUint32Array(DCM_DimensionIndexValues, index, gated ? 2 : 1),
		      "DimensionIndexValues");
		put(add_item(g, DCM_PlanePositionSequence), DCM_ImagePositionPatient,
		    ds_list(fr->position, 3));
		if (gated) {
			it = add_item(g, DCM_CardiacSynchronizationSequence);
			put_ds(it, DCM_NominalPercentageOfCardiacPhase, fr->cardiac_percent);
			put_ds(it, DCM_NominalCardiacTriggerDelayTime, fr->trigger_time);
			put_ds(it, DCM_ActualCardiacTriggerDelayTime, fr->trigger_time);
			put_ds(it, DCM_RRIntervalTimeNominal, 60000.0 / s->heart_rate);
		}
		if (s->modality == TWIN_DCM_CT) {
			it = add_item(g, DCM_CTPositionSequence);
			put_ds(it, DCM_TablePosition, -fr->position[2]);
			put(it, DCM_ReconstructionTargetCenterPatient, ds_list(fr->position, 3));
			put(it, DCM_DataCollectionCenterPatient, ds_list(fr->position, 3));
		}
	}
}

/* The dimension index: stack position, then temporal position when gated. */
void put_dimensions(DcmItem *d, const twin_dcm_series *s, const char *sop_uid)
{
	std::string uid = derived_uid(sop_uid, 1);
	DcmItem *it;

	put(add_item(d, DCM_DimensionOrganizationSequence), DCM_DimensionOrganizationUID, uid);
	put(d, DCM_DimensionOrganizationType, "3D");
	it = add_item(d, DCM_DimensionIndexSequence);
	put(it, DCM_DimensionOrganizationUID, uid);
	check(it->putAndInsertTagKey(DCM_DimensionIndexPointer, DCM_InStackPositionNumber), "DimensionIndexPointer");
	check(it->putAndInsertTagKey(DCM_FunctionalGroupPointer, DCM_FrameContentSequence), "FunctionalGroupPointer");
	put(it, DCM_DimensionDescriptionLabel, "slice");
	if (s->heart_rate <= 0)
		return;
	put(d, DCM_DimensionOrganizationType, "3D_TEMPORAL");
	it = add_item(d, DCM_DimensionIndexSequence);
	put(it, DCM_DimensionOrganizationUID, uid);
	check(it->putAndInsertTagKey(DCM_DimensionIndexPointer, DCM_TemporalPositionIndex), "DimensionIndexPointer");
	check(it->putAndInsertTagKey(DCM_FunctionalGroupPointer, DCM_FrameContentSequence), "FunctionalGroupPointer");
	put(it, DCM_DimensionDescriptionLabel, "cardiac phase");
}

/* Enhanced CT or MR multi-frame. */
void build_multiframe(DcmItem *d, const twin_dcm_series *s, const char *sop_uid, int instance_number,
		      const twin_dcm_frame *frames, size_t n)
{
	bool ct = s->modality == TWIN_DCM_CT;
	std::string when = std::string(s->study_date ? s->study_date : "") + (s->study_time ? s->study_time : "");

	put(d, DCM_ImageType, enhanced_image_type(s));
	put_patient_study(d, s);
	put_series(d, s, ct ? UID_EnhancedCTImageStorage : UID_EnhancedMRImageStorage, sop_uid, instance_number);
	put(d, DCM_AcquisitionDateTime, when);
	put_ds(d, DCM_AcquisitionDuration, 10);
	put(d, DCM_ContentQualification, "PRODUCT");
	put(d, DCM_PixelPresentation, "MONOCHROME");
	put(d, DCM_VolumetricProperties, "VOLUME");
	put(d, DCM_VolumeBasedCalculationTechnique, "NONE");
	put(d, DCM_PresentationLUTShape, "IDENTITY");
	put(d, DCM_LossyImageCompression, "00");
	put_empty_sequence(d, DCM_AcquisitionContextSequence);
	if (!ct) {
		put(d, DCM_ComplexImageComponent, "MAGNITUDE");
		put(d, DCM_AcquisitionContrast, "T1");
		put(d, DCM_PulseSequenceName, "TWIN_GRE");
		put(d, DCM_MRAcquisitionType, "2D");
		put(d, DCM_EchoPulseSequence, "GRADIENT");
		put(d, DCM_MultiPlanarExcitation, "NO");
		put(d, DCM_PhaseContrast, "NO");
		put(d, DCM_TimeOfFlightContrast, "NO");
		put(d, DCM_SteadyStatePulseSequence, "NONE");
		put(d, DCM_EchoPlanarPulseSequence, "NO");
		put(d, DCM_SaturationRecovery, "NO");
		put(d, DCM_SpectrallySelectedSuppression, "NONE");
		put(d, DCM_OversamplingPhase, "NONE");
		put(d, DCM_GeometryOfKSpaceTraversal, "RECTILINEAR");
		put(d, DCM_RectilinearPhaseEncodeReordering, "LINEAR");
		put(d, DCM_SegmentedKSpaceTraversal, "SINGLE");
		put_us(d, DCM_NumberOfKSpaceTrajectories, 1);
		put(d, DCM_ResonantNucleus, "1H");
		put(d, DCM_KSpaceFiltering, "NONE");
		put_ds(d, DCM_MagneticFieldStrength, s->field_strength);
		put(d, DCM_ApplicableSafetyStandardAgency, "IEC");
		put(d, DCM_ImageComments, "");
	}
	if (s->heart_rate > 0) {
		put(d, DCM_CardiacSynchronizationTechnique, "RETROSPECTIVE");
		put(d, DCM_CardiacSignalSource, "ECG");
		put_ds(d, DCM_CardiacRRIntervalSpecified, 60000.0 / s->heart_rate);
		put(d, DCM_CardiacBeatRejectionTechnique, "NONE");
		put_is(d, DCM_LowRRValue, lround(60000.0 / s->heart_rate * 0.9));
		put_is(d, DCM_HighRRValue, lround(60000.0 / s->heart_rate * 1.1));
		put_is(d, DCM_IntervalsAcquired, 100);
		put_is(d, DCM_IntervalsRejected, 0);
	}
	put_is(d, DCM_NumberOfFrames, long(n));
	put_pixel_module(d, s);
	put_dimensions(d, s, sop_uid);
	put_shared_groups(d, s, sop_uid);
	put_per_frame(d, s, frames, n);
}

/* Encodes the pixel data for the transfer syntax and saves through a temporary file. */
void save(DcmFileFormat &file, const char *path, enum twin_dcm_ts ts)
{
	E_TransferSyntax xfer = ts_table[ts].xfer;
	DcmDataset *d = file.getDataset();
	struct twin_err err;
	struct twin_atomic a;

	if (ts == TWIN_DCM_RLE || ts == TWIN_DCM_JPEG_LOSSLESS || ts == TWIN_DCM_JPEG_LS) {
		DcmRLERepresentationParameter rle;
		DJ_RPLossless jpeg(1, 0);
		DJLSRepresentationParameter jls(0, OFTrue);
		const DcmRepresentationParameter *param = ts == TWIN_DCM_RLE ? static_cast<DcmRepresentationParameter *>(&rle)
						       : ts == TWIN_DCM_JPEG_LOSSLESS ? static_cast<DcmRepresentationParameter *>(&jpeg)
						       : &jls;
		register_encoders();
		check(d->chooseRepresentation(xfer, param), "cannot encode pixel data");
	}
	if (!d->canWriteXfer(xfer))
		throw failure(TWIN_EDEP, std::string("cannot encode pixel data as ") + ts_table[ts].name);
	twin_err_init(&err);
	if (twin_atomic_open(&err, &a, path) != 0)
		throw failure(err.code, err.msg);
	OFCondition cond = file.saveFile(a.tmp, xfer, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
					  EWM_createNewMeta);
	if (cond.bad()) {
		twin_atomic_abort(&a);
		throw failure(TWIN_EIO, std::string("cannot save: ") + cond.text());
	}
	if (twin_atomic_commit(&err, &a) != 0)
		throw failure(err.code, err.msg);
}

void write_object(const char *path, const twin_dcm_series *s, const char *sop_uid, int instance_number,
		  const twin_dcm_frame *frames, size_t n, bool multiframe)
{
	DcmFileFormat file;
	DcmDataset *d = file.getDataset();

	need_dictionary();
	validate(s, sop_uid, frames, n);
	std::vector<Uint16> words = pixel_words(s, frames, n);
	if (multiframe)
		build_multiframe(d, s, sop_uid, instance_number, frames, n);
	else
		build_slice(d, s, sop_uid, instance_number, frames);
	check(d->putAndInsertUint16Array(DCM_PixelData, words.data(), words.size()), "PixelData");
	save(file, path, s->ts);
}

} // namespace

const char *twin_dcm_ts_uid(enum twin_dcm_ts ts)
{
	if (int(ts) < 0 || ts >= TWIN_DCM_TS_COUNT)
		return NULL;
	return DcmXfer(ts_table[ts].xfer).getXferID();
}

const char *twin_dcm_ts_name(enum twin_dcm_ts ts)
{
	if (int(ts) < 0 || ts >= TWIN_DCM_TS_COUNT)
		return NULL;
	return ts_table[ts].name;
}

int twin_dcm_write_slice(struct twin_err *err, const char *path, const struct twin_dcm_series *s,
			 const char *sop_uid, int instance_number, const struct twin_dcm_frame *frame)
{
	try {
		write_object(path, s, sop_uid, instance_number, frame, 1, false);
		return 0;
	} catch (...) {
		return set_error(err, path);
	}
}

int twin_dcm_write_multiframe(struct twin_err *err, const char *path, const struct twin_dcm_series *s,
			      const char *sop_uid, int instance_number,
			      const struct twin_dcm_frame *frames, size_t nframes)
{
	try {
		write_object(path, s, sop_uid, instance_number, frames, nframes, true);
		return 0;
	} catch (...) {
		return set_error(err, path);
	}
}
