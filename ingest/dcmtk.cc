/*
 * dcmtk: the shim between dcm2twin's C and DCMTK, behind ingest/dcmtk.h.
 * Sections: shared helpers, writing, then reading. Every extern "C" entry
 * point is one try/catch that turns an exception into err; nothing C++
 * leaves this file.
 */
#include "dcmtk.h"

#include "files.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>
#include <dirent.h>
#include <strings.h>
#include <sys/stat.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfcache.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/dcmjpls/djrparam.h>
#include <dcmtk/oflog/oflog.h>

#include <openjpeg.h>
#include <zlib.h>

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

/* ---- reading ------------------------------------------------------------ */

/*
 * Headers are loaded with a read-length limit, so that pixel data stays on
 * disk until a frame is decoded. DCMTK's decoders cover RLE, JPEG and JPEG-LS;
 * JPEG 2000 frames are gathered from their fragments and given to OpenJPEG.
 */

namespace rd {

const Uint32 read_limit = 4096;   /* longer values are loaded when used */

std::once_flag codecs_once;

/* At exit, before DCMTK's own globals go: its codec list would leak the entries. */
void deregister_codecs()
{
	DJLSDecoderRegistration::cleanup();
	DJDecoderRegistration::cleanup();
	DcmRLEDecoderRegistration::cleanup();
}

void register_codecs()
{
	std::call_once(codecs_once, [] {
		/* DCMTK logs to stderr; the stages report through err instead. */
		OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
		DcmRLEDecoderRegistration::registerCodecs();
		DJDecoderRegistration::registerCodecs();
		DJLSDecoderRegistration::registerCodecs();
		atexit(deregister_codecs);
	});
}

/* DCMTK's condition text with a lower-case first letter. */
std::string cond_text(const OFCondition &c)
{
	std::string s = c.text();

	if (!s.empty())
		s[0] = (char)tolower((unsigned char)s[0]);
	return s;
}

/*
 * 1 when the first got bytes of a file (up to 132) are DICOM: a DICM
 * preamble, or (for files without one) a first element of group 0002 or 0008
 * in either byte order; else 0.
 */
int dicom_magic(const unsigned char *b, size_t got)
{
	if (got >= 132 && memcmp(b + 128, "DICM", 4) == 0)
		return 1;
	if (got < 8)
		return 0;
	unsigned le = b[0] | b[1] << 8, be = b[0] << 8 | b[1];
	unsigned ele = b[2] | b[3] << 8, be_ele = b[2] << 8 | b[3];
	if ((le == 0x0002 || le == 0x0008) && ele < 0x0100)
		return 1;
	return be == 0x0008 && be_ele < 0x0100;
}

/* 1 when path is DICOM (dicom_magic), 0 when it is not, -1 with err set when it cannot be read. */
int looks_like_dicom(struct twin_err *err, const char *path)
{
	unsigned char b[132];
	size_t got;
	FILE *f = fopen(path, "rb");

	if (!f)
		return twin_err_errno(err, "cannot open", path);
	got = fread(b, 1, sizeof(b), f);
	fclose(f);
	return dicom_magic(b, got);
}

/* Loads path's header (lazily), telling "not DICOM" from "corrupt". */
int load_header(struct twin_err *err, const char *path, DcmFileFormat &ff)
{
	int dicom = looks_like_dicom(err, path);

	if (dicom < 0)
		return -1;
	if (dicom == 0)
		return twin_err_set(err, TWIN_EUNSUPPORTED, "'%s': not a DICOM file", path);
	OFCondition c = ff.loadFile(path, EXS_Unknown, EGL_noChange, read_limit, ERM_autoDetect);
	/* a deflated stream cannot be read again later: load it whole */
	if (c.good() && ff.getDataset()->getOriginalXfer() == EXS_DeflatedLittleEndianExplicit)
		c = ff.loadFile(path, EXS_Unknown, EGL_noChange, OFnumeric_limits<Uint32>::max(), ERM_autoDetect);
	if (c.bad())
		return twin_err_set(err, TWIN_EINPUT, "cannot read '%s': %s", path, cond_text(c).c_str());
	return 0;
}

/* As load_header, from the whole file in memory: every value is loaded, nothing is read later. */
int load_mem(struct twin_err *err, const char *path, const void *buf, size_t len, DcmFileFormat &ff)
{
	DcmInputBufferStream in;

	if (!dicom_magic((const unsigned char *)buf, len))
		return twin_err_set(err, TWIN_EUNSUPPORTED, "'%s': not a DICOM file", path);
	in.setBuffer(buf, (offile_off_t)len);
	in.setEos();
	ff.transferInit();
	OFCondition c = ff.read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
	ff.transferEnd();
	in.releaseBuffer();
	if (c.bad())
		return twin_err_set(err, TWIN_EINPUT, "cannot read '%s': %s", path, cond_text(c).c_str());
	return 0;
}

void copy_str(DcmItem *it, const DcmTagKey &tag, char *dst, size_t size)
{
	OFString v;

	if (!it || it->findAndGetOFStringArray(tag, v).bad())
		return;
	size_t b = v.find_first_not_of(' '), e = v.find_last_not_of(' ');
	if (b == OFString_npos) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, size, "%s", v.substr(b, e - b + 1).c_str());
}

bool get_f64(DcmItem *it, const DcmTagKey &tag, double *v, unsigned long pos = 0)
{
	Float64 x;
	Float32 y;

	if (!it)
		return false;
	if (it->findAndGetFloat64(tag, x, pos).good()) {    /* DS, FD */
		*v = x;
		return true;
	}
	if (it->findAndGetFloat32(tag, y, pos).good()) {    /* FL */
		*v = y;
		return true;
	}
	return false;
}

bool get_int(DcmItem *it, const DcmTagKey &tag, int *v)
{
	Sint32 s;
	Uint16 u;
	Uint32 u32;
	OFString str;

	if (!it)
		return false;
	if (it->findAndGetSint32(tag, s).good()) {
		*v = s;
		return true;
	}
	if (it->findAndGetUint16(tag, u).good()) {
		*v = u;
		return true;
	}
	if (it->findAndGetUint32(tag, u32).good()) {
		*v = (int)u32;
		return true;
	}
	return false;
}

unsigned get_u16(DcmItem *it, const DcmTagKey &tag, unsigned dflt)
{
	Uint16 u;

	return it && it->findAndGetUint16(tag, u).good() ? u : dflt;
}

/* Item 0 of sequence seq in it, or NULL. */
DcmItem *seq_item(DcmItem *it, const DcmTagKey &seq, unsigned long idx = 0)
{
	DcmItem *sub = NULL;

	if (!it || it->findAndGetSequenceItem(seq, sub, (signed long)idx).bad())
		return NULL;
	return sub;
}

/*
 * The functional group macro seq that holds tag: the per-frame item's first,
 * then the shared one. NULL when neither has it.
 */
DcmItem *group_with(DcmItem *perframe, DcmItem *shared, const DcmTagKey &seq, const DcmTagKey &tag)
{
	DcmItem *m = seq_item(perframe, seq);

	if (m && m->tagExists(tag))
		return m;
	m = seq_item(shared, seq);
	if (m && m->tagExists(tag))
		return m;
	return NULL;
}

uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The element of private block `creator` in group, or NULL. */
DcmElement *private_element(DcmItem *ds, Uint16 group, const char *creator, Uint16 elem)
{
	for (Uint16 block = 0x10; block <= 0xff; block++) {
		OFString v;

		if (ds->findAndGetOFString(DcmTagKey(group, block), v).bad())
			continue;
		size_t e = v.find_last_not_of(' ');
		if (e != OFString_npos)
			v = v.substr(0, e + 1);
		if (v != creator)
			continue;
		DcmElement *el = NULL;
		if (ds->findAndGetElement(DcmTagKey(group, (Uint16)(block << 8 | elem)), el).good())
			return el;
		return NULL;
	}
	return NULL;
}

/*
 * The values of one tag of a Siemens CSA header (SV10 format), or an empty
 * list. Only as much of the format as twin-ingest needs.
 */
std::vector<std::string> csa_values(const unsigned char *p, size_t len, const char *name)
{
	std::vector<std::string> out;
	size_t pos = 16;

	if (len < 16 || memcmp(p, "SV10", 4) != 0)
		return out;
	uint32_t ntags = le32(p + 8);
	if (ntags > 1000)
		return out;
	for (uint32_t t = 0; t < ntags; t++) {
		if (pos + 84 > len)
			return out;
		char tag[65];
		memcpy(tag, p + pos, 64);
		tag[64] = '\0';
		uint32_t nitems = le32(p + pos + 76);
		bool want = strcmp(tag, name) == 0;
		pos += 84;
		if (nitems > 1000)
			return std::vector<std::string>();
		for (uint32_t i = 0; i < nitems; i++) {
			if (pos + 16 > len)
				return std::vector<std::string>();
			uint32_t n = le32(p + pos + 4);
			pos += 16;
			if (n > len - pos)
				return std::vector<std::string>();
			if (want && n > 0) {
				std::string v((const char *)p + pos, n);
				v = v.substr(0, strnlen(v.c_str(), n));
				size_t b = v.find_first_not_of(' '), e = v.find_last_not_of(' ');
				if (b != std::string::npos)
					out.push_back(v.substr(b, e - b + 1));
			}
			pos += (n + 3) & ~(size_t)3;
		}
		if (want)
			return out;
	}
	return out;
}

/* Fills the mosaic fields of fr when ds is a Siemens mosaic. */
void read_mosaic(DcmItem *ds, struct twin_frame *fr)
{
	unsigned n = 0;

	if (!strstr(fr->image_type, "MOSAIC"))
		return;
	DcmElement *el = private_element(ds, 0x0019, "SIEMENS MR HEADER", 0x0a);
	Uint16 u;
	if (el && el->getUint16(u).good())
		n = u;
	el = private_element(ds, 0x0029, "SIEMENS CSA HEADER", 0x10);
	Uint8 *csa = NULL;
	if (el && el->getUint8Array(csa).good() && csa) {
		size_t len = el->getLength();
		std::vector<std::string> v = csa_values(csa, len, "NumberOfImagesInMosaic");
		if (n == 0 && v.size() == 1)
			n = (unsigned)atoi(v[0].c_str());
		v = csa_values(csa, len, "SliceNormalVector");
		if (v.size() == 3) {
			for (int i = 0; i < 3; i++)
				fr->slice_normal[i] = atof(v[i].c_str());
			fr->has_slice_normal = 1;
		}
	}
	if (n < 1)
		return;
	unsigned side = (unsigned)ceil(sqrt((double)n));
	if (fr->rows % side || fr->cols % side)
		return;
	fr->mosaic_images = n;
	fr->mosaic_rows = fr->rows / side;
	fr->mosaic_cols = fr->cols / side;
}

/* ImagePositionPatient from it (a macro item or the dataset); false when absent. */
bool read_position(DcmItem *it, struct twin_frame *fr)
{
	double p[3];

	for (int i = 0; i < 3; i++)
		if (!get_f64(it, DCM_ImagePositionPatient, &p[i], (unsigned long)i))
			return false;
	memcpy(fr->ipp, p, sizeof(p));
	return true;
}

/* ImageOrientationPatient, likewise. */
bool read_orientation(DcmItem *it, struct twin_frame *fr)
{
	double o[6];

	for (int i = 0; i < 6; i++)
		if (!get_f64(it, DCM_ImageOrientationPatient, &o[i], (unsigned long)i))
			return false;
	memcpy(fr->iop, o, sizeof(o));
	return true;
}

/* The common, top-level fields of every frame of ds. */
void read_common(DcmFileFormat &ff, const char *path, struct twin_frame *fr)
{
	DcmDataset *ds = ff.getDataset();
	DcmMetaInfo *meta = ff.getMetaInfo();
	double d;
	int i;

	fr->n_frames = 1;
	fr->series_number = fr->instance_number = -1;
	fr->slope = 1;
	fr->intercept = 0;
	fr->trigger_time = NAN;
	fr->phase_percent = NAN;
	fr->temporal_position = -1;
	fr->acquisition_number = -1;
	fr->stack_position = -1;
	(void)path;

	copy_str(ds, DCM_SOPClassUID, fr->sop_class, sizeof(fr->sop_class));
	if (!fr->sop_class[0])
		copy_str(meta, DCM_MediaStorageSOPClassUID, fr->sop_class, sizeof(fr->sop_class));
	copy_str(ds, DCM_SOPInstanceUID, fr->sop_uid, sizeof(fr->sop_uid));
	copy_str(ds, DCM_StudyInstanceUID, fr->study_uid, sizeof(fr->study_uid));
	copy_str(ds, DCM_SeriesInstanceUID, fr->series_uid, sizeof(fr->series_uid));
	copy_str(ds, DCM_FrameOfReferenceUID, fr->frame_of_ref, sizeof(fr->frame_of_ref));
	copy_str(meta, DCM_TransferSyntaxUID, fr->transfer_syntax, sizeof(fr->transfer_syntax));
	if (!fr->transfer_syntax[0])
		snprintf(fr->transfer_syntax, sizeof(fr->transfer_syntax), "%s",
			 DcmXfer(ds->getOriginalXfer()).getXferID());
	copy_str(ds, DCM_Modality, fr->modality, sizeof(fr->modality));
	copy_str(ds, DCM_ImageType, fr->image_type, sizeof(fr->image_type));
	copy_str(ds, DCM_SeriesDescription, fr->description, sizeof(fr->description));
	copy_str(ds, DCM_Manufacturer, fr->manufacturer, sizeof(fr->manufacturer));
	copy_str(ds, DCM_ManufacturerModelName, fr->model, sizeof(fr->model));
	copy_str(ds, DCM_ConvolutionKernel, fr->kernel, sizeof(fr->kernel));
	if (get_int(ds, DCM_SeriesNumber, &i))
		fr->series_number = i;
	if (get_int(ds, DCM_InstanceNumber, &i))
		fr->instance_number = i;
	fr->rows = get_u16(ds, DCM_Rows, 0);
	fr->cols = get_u16(ds, DCM_Columns, 0);
	fr->samples_per_pixel = get_u16(ds, DCM_SamplesPerPixel, 1);
	fr->bits_allocated = get_u16(ds, DCM_BitsAllocated, 0);
	fr->bits_stored = get_u16(ds, DCM_BitsStored, fr->bits_allocated);
	fr->high_bit = get_u16(ds, DCM_HighBit, fr->bits_stored - 1);
	fr->pixel_signed = get_u16(ds, DCM_PixelRepresentation, 0);
	copy_str(ds, DCM_PhotometricInterpretation, fr->photometric, sizeof(fr->photometric));
	fr->has_pixels = ds->tagExists(DCM_PixelData) ? 1 : 0;

	bool ipp = read_position(ds, fr), iop = read_orientation(ds, fr);
	fr->has_position = ipp && iop;
	get_f64(ds, DCM_PixelSpacing, &fr->spacing[0], 0);
	get_f64(ds, DCM_PixelSpacing, &fr->spacing[1], 1);
	get_f64(ds, DCM_SliceThickness, &fr->thickness);
	get_f64(ds, DCM_SpacingBetweenSlices, &fr->slice_spacing);
	if (get_f64(ds, DCM_RescaleSlope, &d))
		fr->slope = d;
	get_f64(ds, DCM_RescaleIntercept, &fr->intercept);
	get_f64(ds, DCM_KVP, &fr->kvp);
	get_f64(ds, DCM_GantryDetectorTilt, &fr->gantry_tilt);
	get_f64(ds, DCM_TriggerTime, &fr->trigger_time);
	get_f64(ds, DCM_NominalPercentageOfCardiacPhase, &fr->phase_percent);
	if (get_int(ds, DCM_TemporalPositionIdentifier, &i))
		fr->temporal_position = i;
	if (get_int(ds, DCM_AcquisitionNumber, &i))
		fr->acquisition_number = i;
	read_mosaic(ds, fr);
}

/* Overrides fr's per-frame fields from the functional groups of frame k. */
void read_functional_groups(DcmDataset *ds, unsigned k, struct twin_frame *fr)
{
	DcmItem *shared = seq_item(ds, DCM_SharedFunctionalGroupsSequence);
	DcmItem *perframe = seq_item(ds, DCM_PerFrameFunctionalGroupsSequence, k);
	DcmItem *m;
	double d;
	bool ipp = false, iop = false;
	int i;

	if (!shared && !perframe)
		return;
	if ((m = group_with(perframe, shared, DCM_PlanePositionSequence, DCM_ImagePositionPatient)))
		ipp = read_position(m, fr);
	if ((m = group_with(perframe, shared, DCM_PlaneOrientationSequence, DCM_ImageOrientationPatient)))
		iop = read_orientation(m, fr);
	fr->has_position = (ipp || read_position(ds, fr)) && (iop || read_orientation(ds, fr));
	if ((m = group_with(perframe, shared, DCM_PixelMeasuresSequence, DCM_PixelSpacing))) {
		get_f64(m, DCM_PixelSpacing, &fr->spacing[0], 0);
		get_f64(m, DCM_PixelSpacing, &fr->spacing[1], 1);
	}
	if ((m = group_with(perframe, shared, DCM_PixelMeasuresSequence, DCM_SliceThickness)))
		get_f64(m, DCM_SliceThickness, &fr->thickness);
	if ((m = group_with(perframe, shared, DCM_PixelMeasuresSequence, DCM_SpacingBetweenSlices)))
		get_f64(m, DCM_SpacingBetweenSlices, &fr->slice_spacing);
	if ((m = group_with(perframe, shared, DCM_PixelValueTransformationSequence, DCM_RescaleSlope)) &&
	    get_f64(m, DCM_RescaleSlope, &d))
		fr->slope = d;
	if ((m = group_with(perframe, shared, DCM_PixelValueTransformationSequence, DCM_RescaleIntercept)))
		get_f64(m, DCM_RescaleIntercept, &fr->intercept);
	if ((m = group_with(perframe, shared, DCM_CardiacSynchronizationSequence,
			    DCM_NominalPercentageOfCardiacPhase)))
		get_f64(m, DCM_NominalPercentageOfCardiacPhase, &fr->phase_percent);
	if ((m = group_with(perframe, shared, DCM_CardiacSynchronizationSequence,
			    DCM_NominalCardiacTriggerDelayTime)))
		get_f64(m, DCM_NominalCardiacTriggerDelayTime, &fr->trigger_time);
	if ((m = group_with(perframe, shared, DCM_FrameContentSequence, DCM_TemporalPositionIndex)) &&
	    get_int(m, DCM_TemporalPositionIndex, &i))
		fr->temporal_position = i;
	if ((m = group_with(perframe, shared, DCM_FrameContentSequence, DCM_FrameAcquisitionNumber)) &&
	    get_int(m, DCM_FrameAcquisitionNumber, &i))
		fr->acquisition_number = i;
	if ((m = group_with(perframe, shared, DCM_FrameContentSequence, DCM_InStackPositionNumber)) &&
	    get_int(m, DCM_InStackPositionNumber, &i))
		fr->stack_position = i;
	if ((m = group_with(perframe, shared, DCM_CTXRayDetailsSequence, DCM_KVP)))
		get_f64(m, DCM_KVP, &fr->kvp);
	if ((m = group_with(perframe, shared, DCM_CTAcquisitionDetailsSequence, DCM_GantryDetectorTilt)))
		get_f64(m, DCM_GantryDetectorTilt, &fr->gantry_tilt);
	if ((m = group_with(perframe, shared, DCM_CTReconstructionSequence, DCM_ConvolutionKernel)))
		copy_str(m, DCM_ConvolutionKernel, fr->kernel, sizeof(fr->kernel));
}

int scan(struct twin_err *err, const char *path, struct twin_frame **out, size_t *nout)
{
	DcmFileFormat ff;
	struct twin_frame first;
	struct twin_frame *frames = NULL;
	Sint32 nf = 1;
	size_t n;

	memset(&first, 0, sizeof(first));
	if (load_header(err, path, ff) != 0)
		return -1;
	DcmDataset *ds = ff.getDataset();
	read_common(ff, path, &first);
	if (ds->findAndGetSint32(DCM_NumberOfFrames, nf).bad() || nf < 1)
		nf = 1;
	n = (size_t)nf;
	if (!(frames = (struct twin_frame *)calloc(n, sizeof(*frames))))
		return twin_err_set(err, TWIN_EFAIL, "scanning '%s': out of memory", path);
	for (size_t k = 0; k < n; k++) {
		frames[k] = first;
		frames[k].frame = (unsigned)k;
		frames[k].n_frames = (unsigned)n;
		read_functional_groups(ds, (unsigned)k, &frames[k]);
		frames[k].path = strdup(path);
		if (!frames[k].path) {
			twin_dcm_frames_free(frames, k);
			return twin_err_set(err, TWIN_EFAIL, "scanning '%s': out of memory", path);
		}
	}
	*out = frames;
	*nout = n;
	return 0;
}

/* ---- DICOMDIR ---- */

/* dir/name, matching name's case-insensitively when the exact name is absent. */
std::string join_nocase(const std::string &dir, const std::string &name)
{
	std::string exact = dir + "/" + name;
	struct stat st;

	if (stat(exact.c_str(), &st) == 0)
		return exact;
	DIR *d = opendir(dir.c_str());
	if (!d)
		return exact;
	std::string found = exact;
	for (struct dirent *e; (e = readdir(d));) {
		if (strcasecmp(e->d_name, name.c_str()) == 0) {
			found = dir + "/" + e->d_name;
			break;
		}
	}
	closedir(d);
	return found;
}

int dicomdir_files(struct twin_err *err, const char *path, std::vector<std::string> &files,
		   size_t *missing)
{
	DcmFileFormat ff;
	DcmSequenceOfItems *seq = NULL;

	if (load_header(err, path, ff) != 0)
		return -1;
	DcmDataset *ds = ff.getDataset();
	if (ds->findAndGetSequence(DCM_DirectoryRecordSequence, seq).bad() || !seq)
		return twin_err_set(err, TWIN_EINPUT, "'%s': not a DICOMDIR (no directory records)", path);
	std::string base = path;
	size_t slash = base.find_last_of('/');
	base = slash == std::string::npos ? "." : base.substr(0, slash ? slash : 1);
	for (unsigned long r = 0; r < seq->card(); r++) {
		DcmItem *rec = seq->getItem(r);
		OFString id;
		std::string p = base;
		struct stat st;

		for (unsigned long c = 0; rec && rec->findAndGetOFString(DCM_ReferencedFileID, id, c).good(); c++) {
			size_t e = id.find_last_not_of(' ');
			p = join_nocase(p, std::string(id.c_str(), e == OFString_npos ? 0 : e + 1));
		}
		if (p == base)
			continue;
		if (stat(p.c_str(), &st) != 0) {
			if (missing)
				(*missing)++;
			continue;
		}
		files.push_back(p);
	}
	return 0;
}

/* ---- pixels ---- */

/* How the frames of a transfer syntax are decoded. */
enum codec {
	NONE,          /* no decoder */
	NATIVE,        /* uncompressed, deflated dataset included: DCMTK */
	DCMTK,         /* RLE, JPEG, JPEG-LS: DCMTK's decoders */
	J2K,           /* JPEG 2000 and HTJ2K: OpenJPEG */
	DEFLATE_FRAME  /* Deflated Image Frame Compression: zlib, per frame */
};

codec codec_of(const std::string &uid)
{
	static const struct {
		const char *uid;
		codec c;
	} table[] = {
		{ "1.2.840.10008.1.2", NATIVE },          { "1.2.840.10008.1.2.1", NATIVE },
		{ "1.2.840.10008.1.2.2", NATIVE },        { "1.2.840.10008.1.2.1.99", NATIVE },
		{ "1.2.840.10008.1.2.5", DCMTK },         { "1.2.840.10008.1.2.4.50", DCMTK },
		{ "1.2.840.10008.1.2.4.51", DCMTK },      { "1.2.840.10008.1.2.4.57", DCMTK },
		{ "1.2.840.10008.1.2.4.70", DCMTK },      { "1.2.840.10008.1.2.4.80", DCMTK },
		{ "1.2.840.10008.1.2.4.81", DCMTK },      { "1.2.840.10008.1.2.4.90", J2K },
		{ "1.2.840.10008.1.2.4.91", J2K },        { "1.2.840.10008.1.2.4.201", J2K },
		{ "1.2.840.10008.1.2.4.202", J2K },       { "1.2.840.10008.1.2.4.203", J2K },
		{ "1.2.840.10008.1.2.8.1", DEFLATE_FRAME },
	};

	for (const auto &t : table)
		if (uid == t.uid)
			return t.c;
	return NONE;
}

/* An in-memory source for OpenJPEG. */
struct mem_src {
	const unsigned char *p;
	size_t len, pos;
};

OPJ_SIZE_T mem_read(void *buf, OPJ_SIZE_T n, void *user)
{
	mem_src *s = (mem_src *)user;

	if (s->pos >= s->len)
		return (OPJ_SIZE_T)-1;
	if (n > s->len - s->pos)
		n = s->len - s->pos;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return n;
}

OPJ_OFF_T mem_skip(OPJ_OFF_T n, void *user)
{
	mem_src *s = (mem_src *)user;

	if (n < 0) {
		if ((size_t)-n > s->pos)
			n = -(OPJ_OFF_T)s->pos;
	} else if ((size_t)n > s->len - s->pos) {
		n = (OPJ_OFF_T)(s->len - s->pos);
	}
	s->pos = (size_t)((OPJ_OFF_T)s->pos + n);
	return n;
}

OPJ_BOOL mem_seek(OPJ_OFF_T n, void *user)
{
	mem_src *s = (mem_src *)user;

	if (n < 0 || (size_t)n > s->len)
		return OPJ_FALSE;
	s->pos = (size_t)n;
	return OPJ_TRUE;
}

void opj_quiet(const char *msg, void *user)
{
	(void)msg;
	(void)user;
}

void opj_keep(const char *msg, void *user)
{
	std::string *s = (std::string *)user;

	if (s->empty()) {
		*s = msg;
		while (!s->empty() && (s->back() == '\n' || s->back() == '.'))
			s->pop_back();
		if (!s->empty())
			(*s)[0] = (char)tolower((unsigned char)(*s)[0]);
	}
}

} // namespace rd

struct twin_dcm_file {
	DcmFileFormat ff;
	std::string path;
	E_TransferSyntax xfer;
	std::string ts_uid;
	rd::codec codec;
	unsigned rows, cols, spp, nframes;
	unsigned bits_alloc, bits_stored, high_bit, sign;
	Uint32 next_fragment;   /* DCMTK's hint for the frame after the last one read */
	unsigned next_frame;
	DcmFileCache cache;
};

namespace rd {

/* buf: the whole file in memory, borrowed for the call; NULL to read path lazily. */
int open_file(struct twin_err *err, struct twin_dcm_file *f, const char *path, const void *buf, size_t len)
{
	DcmDataset *ds;
	Sint32 nf = 1;

	f->path = path;
	if (buf ? load_mem(err, path, buf, len, f->ff) != 0 : load_header(err, path, f->ff) != 0)
		return -1;
	ds = f->ff.getDataset();
	f->xfer = ds->getOriginalXfer();
	if (!ds->tagExists(DCM_PixelData)) {
		if (ds->tagExists(DCM_FloatPixelData) || ds->tagExists(DCM_DoubleFloatPixelData))
			return twin_err_set(err, TWIN_EUNSUPPORTED, "'%s': float pixel data is not supported", path);
		return twin_err_set(err, TWIN_EINPUT, "'%s': no pixel data", path);
	}
	f->rows = get_u16(ds, DCM_Rows, 0);
	f->cols = get_u16(ds, DCM_Columns, 0);
	f->spp = get_u16(ds, DCM_SamplesPerPixel, 1);
	f->bits_alloc = get_u16(ds, DCM_BitsAllocated, 0);
	f->bits_stored = get_u16(ds, DCM_BitsStored, f->bits_alloc);
	f->high_bit = get_u16(ds, DCM_HighBit, f->bits_stored - 1);
	f->sign = get_u16(ds, DCM_PixelRepresentation, 0);
	if (ds->findAndGetSint32(DCM_NumberOfFrames, nf).bad() || nf < 1)
		nf = 1;
	f->nframes = (unsigned)nf;
	if (f->rows == 0 || f->cols == 0)
		return twin_err_set(err, TWIN_EINPUT, "'%s': image size %ux%u", path, f->cols, f->rows);
	if (f->spp != 1)
		return twin_err_set(err, TWIN_EUNSUPPORTED, "'%s': colour images (%u samples per pixel) are not supported",
				    path, f->spp);
	if (f->bits_alloc != 1 && f->bits_alloc != 8 && f->bits_alloc != 16 && f->bits_alloc != 32)
		return twin_err_set(err, TWIN_EINPUT, "'%s': %u bits allocated", path, f->bits_alloc);
	if (f->bits_stored < 1 || f->bits_stored > f->bits_alloc || f->high_bit >= f->bits_alloc ||
	    f->high_bit + 1 < f->bits_stored)
		return twin_err_set(err, TWIN_EINPUT, "'%s': %u bits stored with high bit %u in %u allocated",
				    path, f->bits_stored, f->high_bit, f->bits_alloc);
	if (f->bits_alloc == 32 && !f->sign)
		return twin_err_set(err, TWIN_EUNSUPPORTED, "'%s': unsigned 32-bit pixel data is not supported", path);
	OFString uid;
	if (f->ff.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, uid).good() && !uid.empty())
		f->ts_uid = uid.c_str();
	else
		f->ts_uid = DcmXfer(f->xfer).getXferID();
	f->codec = codec_of(f->ts_uid);
	if (f->codec == NONE)
		return twin_err_set(err, TWIN_EUNSUPPORTED, "'%s': transfer syntax %s is not supported",
				    path, f->ts_uid.c_str());
	return 0;
}

/* A stored value: the BitsStored bits below HighBit, sign-extended when signed. */
inline int32_t stored(uint32_t raw, unsigned shift, uint32_t mask, uint32_t sign_bit)
{
	uint32_t v = (raw >> shift) & mask;

	if (sign_bit && (v & sign_bit))
		return (int32_t)(v | ~mask);
	return (int32_t)v;
}

/* All 16 bits stored: a plain widening, in blocks the compiler vectorises. */
void widen16(const Uint16 *w, size_t n, bool sign, int32_t *out)
{
	size_t i = 0;

	if (sign) {
		for (; i + 64 <= n; i += 64)
			for (size_t j = i; j < i + 64; j++)
				out[j] = (int16_t)w[j];
		for (; i < n; i++)
			out[i] = (int16_t)w[i];
	} else {
		for (; i + 64 <= n; i += 64)
			for (size_t j = i; j < i + 64; j++)
				out[j] = w[j];
		for (; i < n; i++)
			out[i] = w[i];
	}
}

/* 1-bit data is packed across frames; each frame starts where the last ended. */
int read_bits(struct twin_err *err, struct twin_dcm_file *f, unsigned frame, int32_t *out)
{
	DcmElement *el = NULL;
	Uint8 *p = NULL;
	size_t npix = (size_t)f->rows * f->cols;
	size_t first = npix * frame;

	if (f->ff.getDataset()->findAndGetElement(DCM_PixelData, el).bad() || el->getUint8Array(p).bad() || !p)
		return twin_err_set(err, TWIN_EINPUT, "cannot read the pixel data of '%s'", f->path.c_str());
	if ((first + npix + 7) / 8 > el->getLength())
		return twin_err_set(err, TWIN_EINPUT, "'%s': pixel data is truncated (frame %u)", f->path.c_str(), frame);
	for (size_t i = 0; i < npix; i++)
		out[i] = (p[(first + i) >> 3] >> ((first + i) & 7)) & 1;
	return 0;
}

/* The fragments of frame `frame` of an encapsulated pixel sequence, concatenated. */
int gather_frame(struct twin_err *err, struct twin_dcm_file *f, unsigned frame, std::vector<unsigned char> &out)
{
	DcmElement *el = NULL;
	DcmPixelSequence *seq = NULL;
	DcmPixelItem *item = NULL;
	const char *path = f->path.c_str();
	Uint8 *p = NULL;

	E_TransferSyntax rep = EXS_Unknown;
	const DcmRepresentationParameter *param = NULL;
	if (f->ff.getDataset()->findAndGetElement(DCM_PixelData, el).bad() || el->ident() != EVR_PixelData)
		return twin_err_set(err, TWIN_EINPUT, "'%s': no pixel data", path);
	/* the original representation: DCMTK does not know every encapsulated syntax */
	((DcmPixelData *)el)->getOriginalRepresentationKey(rep, param);
	if (((DcmPixelData *)el)->getEncapsulatedRepresentation(rep, NULL, seq).bad() || !seq)
		return twin_err_set(err, TWIN_EINPUT, "'%s': no encapsulated pixel data", path);
	unsigned long nitems = seq->card();
	if (nitems < 2)
		return twin_err_set(err, TWIN_EINPUT, "'%s': pixel data has no fragments", path);

	/* offsets of the fragments, as the Basic Offset Table counts them */
	std::vector<uint64_t> off(nitems, 0);
	for (unsigned long k = 1; k + 1 < nitems; k++) {
		if (seq->getItem(item, k).bad())
			return twin_err_set(err, TWIN_EINPUT, "'%s': bad pixel data fragment %lu", path, k);
		off[k + 1] = off[k] + 8 + item->getLength();
	}
	unsigned long from = 0, to = 0;   /* fragment items [from, to) */
	std::vector<uint64_t> bot;
	if (seq->getItem(item, 0).good() && item->getLength() >= 4 && item->getUint8Array(p).good() && p) {
		for (Uint32 k = 0; k + 4 <= item->getLength(); k += 4)
			bot.push_back(le32(p + k));
	}
	if (bot.size() == f->nframes) {
		for (unsigned long k = 1; k < nitems; k++) {
			if (off[k] == bot[frame] && !from)
				from = k;
			if (frame + 1 < f->nframes && off[k] == bot[frame + 1])
				to = k;
		}
		if (frame + 1 == f->nframes)
			to = nitems;
		if (!from || to <= from)
			return twin_err_set(err, TWIN_EINPUT, "'%s': offset table does not match the fragments", path);
	} else if (f->nframes == 1) {
		from = 1;
		to = nitems;
	} else if (nitems - 1 == f->nframes) {
		from = frame + 1;
		to = from + 1;
	} else {
		/* a frame starts with a J2K codestream or a JP2 signature */
		unsigned seen = 0;
		for (unsigned long k = 1; k < nitems && !to; k++) {
			bool start = false;
			if (seq->getItem(item, k).good() && item->getLength() >= 12 &&
			    item->getUint8Array(p).good() && p)
				start = (p[0] == 0xff && p[1] == 0x4f && p[2] == 0xff && p[3] == 0x51) ||
					memcmp(p, "\0\0\0\x0cjP  ", 8) == 0;
			if (start) {
				if (seen == frame)
					from = k;
				else if (seen == frame + 1)
					to = k;
				seen++;
			}
		}
		if (from && !to)
			to = nitems;
		if (!from)
			return twin_err_set(err, TWIN_EINPUT, "'%s': frame %u not found among %lu fragments",
					    path, frame, nitems - 1);
	}
	for (unsigned long k = from; k < to; k++) {
		if (seq->getItem(item, k).bad() || (item->getLength() && (item->getUint8Array(p).bad() || !p)))
			return twin_err_set(err, TWIN_EINPUT, "'%s': cannot read pixel data fragment %lu", path, k);
		out.insert(out.end(), p, p + item->getLength());
	}
	return 0;
}

/*
 * Deflated Image Frame Compression: each frame is a raw deflate stream of the
 * frame's native little-endian bytes (1-bit frames packed from bit 0).
 */
int inflate_frame(struct twin_err *err, struct twin_dcm_file *f, unsigned frame, std::vector<unsigned char> &out)
{
	std::vector<unsigned char> d;
	size_t want = ((size_t)f->rows * f->cols * f->bits_alloc + 7) / 8;
	const char *path = f->path.c_str();
	z_stream z;

	if (gather_frame(err, f, frame, d) != 0)
		return -1;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK)
		return twin_err_set(err, TWIN_EDEP, "'%s': cannot start zlib", path);
	out.assign(want + 1, 0);
	z.next_in = d.data();
	z.avail_in = (uInt)d.size();
	z.next_out = out.data();
	z.avail_out = (uInt)out.size();
	int rc = inflate(&z, Z_FINISH);
	size_t got = out.size() - z.avail_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END || got != want)
		return twin_err_set(err, TWIN_EINPUT, "'%s': frame %u: deflated data is corrupt (%zu of %zu bytes)",
				    path, frame, got, want);
	out.resize(want);
	if (f->bits_alloc > 8 && gLocalByteOrder == EBO_BigEndian)
		swapBytes(out.data(), (Uint32)out.size(), f->bits_alloc / 8);
	return 0;
}

/*
 * RLE with 1 bit allocated, which DCMTK's decoder refuses: one segment of
 * PackBits that unpacks to the frame's bits, packed from bit 0.
 */
int decode_rle_bits(struct twin_err *err, struct twin_dcm_file *f, unsigned frame, int32_t *out)
{
	std::vector<unsigned char> d, bytes;
	size_t npix = (size_t)f->rows * f->cols, need = (npix + 7) / 8;
	const char *path = f->path.c_str();

	if (gather_frame(err, f, frame, d) != 0)
		return -1;
	if (d.size() < 64 || le32(d.data()) != 1 || le32(d.data() + 4) < 64)
		return twin_err_set(err, TWIN_EINPUT, "'%s': frame %u: bad RLE header", path, frame);
	size_t pos = le32(d.data() + 4), end = d.size();
	bytes.reserve(need);
	while (pos < end && bytes.size() < need) {
		int h = (signed char)d[pos++];
		if (h >= 0) {
			if ((size_t)h + 1 > end - pos)
				break;
			bytes.insert(bytes.end(), d.begin() + (long)pos, d.begin() + (long)pos + h + 1);
			pos += (size_t)h + 1;
		} else if (h != -128) {
			if (pos >= end)
				break;
			bytes.insert(bytes.end(), (size_t)(1 - h), d[pos++]);
		}
	}
	if (bytes.size() < need)
		return twin_err_set(err, TWIN_EINPUT, "'%s': frame %u: RLE data is truncated", path, frame);
	for (size_t i = 0; i < npix; i++)
		out[i] = (bytes[i >> 3] >> (i & 7)) & 1;
	return 0;
}

int decode_j2k(struct twin_err *err, struct twin_dcm_file *f, unsigned frame, int32_t *out)
{
	std::vector<unsigned char> cs;
	const char *path = f->path.c_str();
	opj_codec_t *codec = NULL;
	opj_stream_t *stream = NULL;
	opj_image_t *image = NULL;
	opj_dparameters_t params;
	std::string msg;
	int rc = -1;

	if (gather_frame(err, f, frame, cs) != 0)
		return -1;
	/* trailing padding aside, a JP2 file or a bare codestream */
	mem_src src = { cs.data(), cs.size(), 0 };
	bool jp2 = cs.size() >= 12 && memcmp(cs.data(), "\0\0\0\x0cjP  ", 8) == 0;
	if (!jp2 && !(cs.size() >= 4 && cs[0] == 0xff && cs[1] == 0x4f && cs[2] == 0xff && cs[3] == 0x51)) {
		twin_err_set(err, TWIN_EINPUT, "'%s': frame %u is not a JPEG 2000 codestream", path, frame);
		goto out;
	}
	codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
	if (!codec || !stream) {
		twin_err_set(err, TWIN_EDEP, "'%s': cannot start OpenJPEG", path);
		goto out;
	}
	opj_set_info_handler(codec, opj_quiet, NULL);
	opj_set_warning_handler(codec, opj_quiet, NULL);
	opj_set_error_handler(codec, opj_keep, &msg);
	opj_stream_set_user_data(stream, &src, NULL);
	opj_stream_set_user_data_length(stream, src.len);
	opj_stream_set_read_function(stream, mem_read);
	opj_stream_set_skip_function(stream, mem_skip);
	opj_stream_set_seek_function(stream, mem_seek);
	opj_set_default_decoder_parameters(&params);
	if (!opj_setup_decoder(codec, &params) || !opj_read_header(stream, codec, &image) ||
	    !opj_decode(codec, stream, image) || !opj_end_decompress(codec, stream)) {
		twin_err_set(err, TWIN_EINPUT, "cannot decode frame %u of '%s': %s", frame, path,
			     msg.empty() ? "corrupt JPEG 2000 data" : msg.c_str());
		goto out;
	}
	if (image->numcomps < 1 || !image->comps[0].data || image->comps[0].w != f->cols ||
	    image->comps[0].h != f->rows) {
		twin_err_set(err, TWIN_EINPUT, "'%s': JPEG 2000 frame %u is %ux%u, the header says %ux%u", path, frame,
			     image->numcomps ? image->comps[0].w : 0, image->numcomps ? image->comps[0].h : 0,
			     f->cols, f->rows);
		goto out;
	}
	if (image->numcomps != 1) {
		twin_err_set(err, TWIN_EUNSUPPORTED, "'%s': JPEG 2000 frame %u has %u components", path, frame,
			     image->numcomps);
		goto out;
	}
	{
		const opj_image_comp_t &c = image->comps[0];
		size_t npix = (size_t)f->rows * f->cols;
		/* an unsigned codestream in a signed dataset: sign-extend from its precision */
		bool extend = f->sign && !c.sgnd && c.prec >= 1 && c.prec < 32;
		uint32_t mask = extend ? (uint32_t)((1ull << c.prec) - 1) : 0;
		uint32_t sign_bit = extend ? (uint32_t)1 << (c.prec - 1) : 0;

		for (size_t i = 0; i < npix; i++)
			out[i] = extend ? stored((uint32_t)c.data[i], 0, mask, sign_bit) : c.data[i];
	}
	rc = 0;
out:
	if (image)
		opj_image_destroy(image);
	if (stream)
		opj_stream_destroy(stream);
	if (codec)
		opj_destroy_codec(codec);
	return rc;
}

int read_frame(struct twin_err *err, struct twin_dcm_file *f, unsigned frame, int32_t *out, size_t count)
{
	const char *path = f->path.c_str();
	DcmDataset *ds = f->ff.getDataset();
	DcmElement *el = NULL;
	size_t npix = (size_t)f->rows * f->cols;
	Uint32 size = 0;
	OFString model;

	if (frame >= f->nframes)
		return twin_err_set(err, TWIN_EFAIL, "'%s': no frame %u (%u frames)", path, frame, f->nframes);
	if (count != npix)
		return twin_err_set(err, TWIN_EFAIL, "'%s': buffer of %zu values for a %ux%u frame", path, count,
				    f->cols, f->rows);
	if (f->codec == J2K)
		return decode_j2k(err, f, frame, out);
	if (f->bits_alloc == 1 && f->codec == NATIVE)
		return read_bits(err, f, frame, out);
	if (f->bits_alloc == 1 && f->xfer == EXS_RLELossless)
		return decode_rle_bits(err, f, frame, out);
	unsigned shift = f->high_bit + 1 - f->bits_stored;
	uint32_t mask = f->bits_stored >= 32 ? 0xffffffffu : (uint32_t)((1ull << f->bits_stored) - 1);
	uint32_t sign_bit = f->sign ? (uint32_t)1 << (f->bits_stored - 1) : 0;
	/* the common CT slice: its 16-bit values straight from the element, without a copy */
	if (f->codec == NATIVE && f->bits_alloc == 16 && f->nframes == 1) {
		const Uint16 *w = NULL;
		if (ds->findAndGetUint16Array(DCM_PixelData, w).good() && w &&
		    ds->findAndGetElement(DCM_PixelData, el).good() && el->getLength() >= npix * 2) {
			if (f->bits_stored == 16 && shift == 0)
				widen16(w, npix, f->sign != 0, out);
			else
				for (size_t i = 0; i < npix; i++)
					out[i] = stored(w[i], shift, mask, sign_bit);
			return 0;
		}
	}
	std::vector<unsigned char> buf;
	if (f->codec == DEFLATE_FRAME) {
		if (inflate_frame(err, f, frame, buf) != 0)
			return -1;
	} else {
		if (ds->findAndGetElement(DCM_PixelData, el).bad() || el->getUncompressedFrameSize(ds, size).bad())
			return twin_err_set(err, TWIN_EINPUT, "'%s': cannot size the pixel data", path);
		buf.resize(size + (size & 1));
		Uint32 fragment = frame == f->next_frame ? f->next_fragment : 0;
		OFCondition c = el->getUncompressedFrame(ds, frame, fragment, buf.data(), (Uint32)buf.size(), model,
							 &f->cache);
		if (c.bad())
			return twin_err_set(err, TWIN_EINPUT, "cannot decode frame %u of '%s': %s", frame, path,
					    cond_text(c).c_str());
		f->next_frame = frame + 1;
		f->next_fragment = fragment;
	}
	if (buf.size() < (npix * f->bits_alloc + 7) / 8)
		return twin_err_set(err, TWIN_EINPUT, "'%s': frame %u is short", path, frame);

	if (f->bits_alloc == 1) {
		/* encapsulated 1-bit frames come back packed, each from bit 0 */
		for (size_t i = 0; i < npix; i++)
			out[i] = (buf[i >> 3] >> (i & 7)) & 1;
	} else if (f->bits_alloc == 8) {
		for (size_t i = 0; i < npix; i++)
			out[i] = stored(buf[i], shift, mask, sign_bit);
	} else if (f->bits_alloc == 16) {
		const Uint16 *w = (const Uint16 *)(const void *)buf.data();
		for (size_t i = 0; i < npix; i++)
			out[i] = stored(w[i], shift, mask, sign_bit);
	} else {
		const Uint32 *w = (const Uint32 *)(const void *)buf.data();
		for (size_t i = 0; i < npix; i++)
			out[i] = stored(w[i], shift, mask, sign_bit);
	}
	return 0;
}

} // namespace rd

int twin_dcm_scan(struct twin_err *err, const char *path, struct twin_frame **frames, size_t *n)
{
	try {
		rd::register_codecs();
		return rd::scan(err, path, frames, n);
	} catch (const std::exception &e) {
		return twin_err_set(err, TWIN_EFAIL, "scanning '%s': %s", path, e.what());
	}
}

void twin_dcm_frames_free(struct twin_frame *frames, size_t n)
{
	if (!frames)
		return;
	for (size_t k = 0; k < n; k++)
		free(frames[k].path);
	free(frames);
}

int twin_dcm_read_phi(struct twin_err *err, const char *path, struct twin_dcm_phi *phi)
{
	memset(phi, 0, sizeof(*phi));
	try {
		DcmFileFormat ff;

		rd::register_codecs();
		if (rd::load_header(err, path, ff) != 0)
			return -1;
		DcmDataset *ds = ff.getDataset();
		rd::copy_str(ds, DCM_PatientName, phi->patient_name, sizeof(phi->patient_name));
		rd::copy_str(ds, DCM_PatientID, phi->patient_id, sizeof(phi->patient_id));
		rd::copy_str(ds, DCM_PatientBirthDate, phi->birth_date, sizeof(phi->birth_date));
		rd::copy_str(ds, DCM_AccessionNumber, phi->accession, sizeof(phi->accession));
		rd::copy_str(ds, DCM_ReferringPhysicianName, phi->physician, sizeof(phi->physician));
		rd::copy_str(ds, DCM_InstitutionName, phi->institution, sizeof(phi->institution));
		return 0;
	} catch (const std::exception &e) {
		return twin_err_set(err, TWIN_EFAIL, "reading '%s': %s", path, e.what());
	}
}

int twin_dcm_dicomdir_files(struct twin_err *err, const char *path, char ***files, size_t *n,
			    size_t *missing)
{
	char **out = NULL;
	size_t k = 0;

	try {
		std::vector<std::string> v;

		rd::register_codecs();
		if (missing)
			*missing = 0;
		if (rd::dicomdir_files(err, path, v, missing) != 0)
			return -1;
		out = (char **)calloc(v.size() + 1, sizeof(*out));
		if (!out)
			return twin_err_set(err, TWIN_EFAIL, "reading '%s': out of memory", path);
		for (k = 0; k < v.size(); k++) {
			if (!(out[k] = strdup(v[k].c_str()))) {
				twin_dcm_files_free(out, k);
				return twin_err_set(err, TWIN_EFAIL, "reading '%s': out of memory", path);
			}
		}
		*files = out;
		*n = v.size();
		return 0;
	} catch (const std::exception &e) {
		twin_dcm_files_free(out, k);
		return twin_err_set(err, TWIN_EFAIL, "reading '%s': %s", path, e.what());
	}
}

void twin_dcm_files_free(char **files, size_t n)
{
	if (!files)
		return;
	for (size_t k = 0; k < n; k++)
		free(files[k]);
	free(files);
}

/* twin_dcm_open, or twin_dcm_open_mem when buf is not NULL. */
static struct twin_dcm_file *open_any(struct twin_err *err, const char *path, const void *buf, size_t len)
{
	struct twin_dcm_file *f = NULL;

	try {
		rd::register_codecs();
		f = new twin_dcm_file();
		f->next_fragment = 0;
		f->next_frame = 0;
		if (rd::open_file(err, f, path, buf, len) != 0) {
			delete f;
			return NULL;
		}
		return f;
	} catch (const std::exception &e) {
		delete f;
		twin_err_set(err, TWIN_EFAIL, "opening '%s': %s", path, e.what());
		return NULL;
	}
}

struct twin_dcm_file *twin_dcm_open(struct twin_err *err, const char *path)
{
	return open_any(err, path, NULL, 0);
}

struct twin_dcm_file *twin_dcm_open_mem(struct twin_err *err, const char *path, const void *buf, size_t len)
{
	return open_any(err, path, buf ? buf : "", buf ? len : 0);
}

void twin_dcm_close(struct twin_dcm_file *f)
{
	delete f;
}

int twin_dcm_read_frame(struct twin_err *err, struct twin_dcm_file *f, unsigned frame,
			int32_t *out, size_t count)
{
	try {
		return rd::read_frame(err, f, frame, out, count);
	} catch (const std::exception &e) {
		return twin_err_set(err, TWIN_EFAIL, "decoding '%s': %s", f->path.c_str(), e.what());
	}
}

int twin_dcm_read_tail16(const struct twin_frame *fr, const void *buf, size_t len, int32_t *out)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	static const unsigned char tag[4] = { 0xe0, 0x7f, 0x10, 0x00 }; /* (7FE0,0010) */
	const unsigned char *b = (const unsigned char *)buf, *el;
	size_t npix = (size_t)fr->rows * fr->cols, bytes = 2 * npix, head;
	bool explicit_vr = strcmp(fr->transfer_syntax, "1.2.840.10008.1.2.1") == 0;
	uint32_t n;

	if ((!explicit_vr && strcmp(fr->transfer_syntax, "1.2.840.10008.1.2") != 0) || fr->n_frames != 1 ||
	    fr->samples_per_pixel != 1 || fr->bits_allocated != 16 || fr->bits_stored < 1 ||
	    fr->bits_stored > 16 || fr->high_bit > 15 || fr->high_bit + 1 < fr->bits_stored || npix == 0)
		return 0;
	/* tag, VR OW, two reserved bytes and the length; implicit VR: tag and length */
	head = explicit_vr ? 12 : 8;
	if (len < bytes + head || (len - bytes) % 2 != 0)
		return 0;
	el = b + len - bytes - head;
	if (memcmp(el, tag, 4) != 0 || (explicit_vr && memcmp(el + 4, "OW\0\0", 4) != 0))
		return 0;
	memcpy(&n, el + head - 4, 4);
	if (n != bytes)
		return 0;
	const Uint16 *w = (const Uint16 *)(const void *)(b + len - bytes);
	unsigned shift = fr->high_bit + 1 - fr->bits_stored;
	uint32_t mask = (uint32_t)((1u << fr->bits_stored) - 1);
	uint32_t sign_bit = fr->pixel_signed ? (uint32_t)1 << (fr->bits_stored - 1) : 0;

	if (fr->bits_stored == 16 && shift == 0)
		rd::widen16(w, npix, fr->pixel_signed != 0, out);
	else
		for (size_t i = 0; i < npix; i++)
			out[i] = rd::stored(w[i], shift, mask, sign_bit);
	return 1;
#else
	(void)fr, (void)buf, (void)len, (void)out;
	return 0;
#endif
}

int twin_dcm_read_pixels(struct twin_err *err, const char *path, unsigned frame,
			 int32_t *out, size_t count)
{
	struct twin_dcm_file *f = twin_dcm_open(err, path);
	int rc;

	if (!f)
		return -1;
	rc = twin_dcm_read_frame(err, f, frame, out, count);
	twin_dcm_close(f);
	return rc;
}

int twin_dcm_mosaic_split(struct twin_err *err, const struct twin_frame *fr,
			  const int32_t *mosaic, int32_t *tiles)
{
	if (fr->mosaic_images == 0 || fr->mosaic_rows == 0 || fr->mosaic_cols == 0)
		return twin_err_set(err, TWIN_EFAIL, "'%s': not a mosaic", fr->path ? fr->path : "?");
	unsigned per_row = fr->cols / fr->mosaic_cols;
	size_t tile = (size_t)fr->mosaic_rows * fr->mosaic_cols;

	for (unsigned k = 0; k < fr->mosaic_images; k++) {
		size_t r0 = (size_t)(k / per_row) * fr->mosaic_rows, c0 = (size_t)(k % per_row) * fr->mosaic_cols;
		for (unsigned r = 0; r < fr->mosaic_rows; r++)
			memcpy(tiles + k * tile + (size_t)r * fr->mosaic_cols, mosaic + (r0 + r) * fr->cols + c0,
			       fr->mosaic_cols * sizeof(*tiles));
	}
	return 0;
}

void twin_dcm_mosaic_position(const struct twin_frame *fr, unsigned k, double ipp[3])
{
	const double *row = fr->iop, *col = fr->iop + 3;
	double n[3] = {
		row[1] * col[2] - row[2] * col[1],
		row[2] * col[0] - row[0] * col[2],
		row[0] * col[1] - row[1] * col[0],
	};
	double dz = fr->slice_spacing > 0 ? fr->slice_spacing : fr->thickness;

	if (fr->has_slice_normal)
		memcpy(n, fr->slice_normal, sizeof(n));
	for (int i = 0; i < 3; i++)
		ipp[i] = fr->ipp[i] + row[i] * fr->spacing[1] * (fr->cols - fr->mosaic_cols) / 2.0 +
			 col[i] * fr->spacing[0] * (fr->rows - fr->mosaic_rows) / 2.0 + n[i] * dz * k;
}

