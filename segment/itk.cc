/*
 * The ITK half of twin-segment: each entry point builds itk::Images from plain
 * C volumes, runs one filter and copies the result back into a new volume.
 * Only float, uint8 and a few label types in 3-D are instantiated.
 */
#include "volume.h"
#include "itk.h"

#include <cmath>
#include <cstring>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include <itkBinaryFillholeImageFilter.h>
#include <itkConnectedComponentImageFilter.h>
#include <itkHistogram.h>
#include <itkImage.h>
#include <itkMorphologicalWatershedFromMarkersImageFilter.h>
#include <itkOtsuMultipleThresholdsCalculator.h>
#include <itkRelabelComponentImageFilter.h>
#include <itkSignedMaurerDistanceMapImageFilter.h>
#include <itkSmoothingRecursiveGaussianImageFilter.h>

namespace {

using FloatImage = itk::Image<float, 3>;
using ByteImage = itk::Image<unsigned char, 3>;
using LabelImage = itk::Image<unsigned int, 3>;

/* A new ITK image with v's grid (spacing, origin, direction) and voxels. */
template <class I>
typename I::Pointer to_itk(const struct twin_volume *v)
{
	typename I::Pointer img = I::New();
	typename I::RegionType region;
	typename I::SpacingType spacing;
	typename I::PointType origin;
	typename I::DirectionType dir;
	typename I::SizeType size;

	for (unsigned a = 0; a < 3; a++) {
		double len = 0.0;

		for (unsigned r = 0; r < 3; r++)
			len += v->affine.m[r][a] * v->affine.m[r][a];
		len = std::sqrt(len);
		spacing[a] = len;
		origin[a] = v->affine.m[a][3];
		for (unsigned r = 0; r < 3; r++)
			dir[r][a] = v->affine.m[r][a] / len;
		size[a] = v->dim[a];
	}
	region.SetSize(size);
	img->SetRegions(region);
	img->SetSpacing(spacing);
	img->SetOrigin(origin);
	img->SetDirection(dir);
	img->Allocate();
	std::memcpy(img->GetBufferPointer(), v->data, twin_volume_bytes(v));
	return img;
}

/* Checks the dtype of an argument; throws a message naming it. */
void want(const struct twin_volume *v, enum twin_dtype dtype, const char *what)
{
	if (!v || v->dtype != dtype)
		throw std::runtime_error(std::string(what) + " must be " + twin_dtype_name(dtype));
}

void same_grid(const struct twin_volume *a, const struct twin_volume *b)
{
	for (unsigned i = 0; i < 3; i++)
		if (a->dim[i] != b->dim[i])
			throw std::runtime_error("the two volumes differ in size");
}

int fail(struct twin_err *err, const char *what, const std::exception &e)
{
	return twin_err_set(err, TWIN_EDEP, "itk: %s: %s", what, e.what());
}

} // namespace

extern "C" int twin_itk_smooth(struct twin_err *err, struct twin_volume *img, double sigma_mm)
{
	try {
		want(img, TWIN_F32, "the image");
		auto in = to_itk<FloatImage>(img);
		auto f = itk::SmoothingRecursiveGaussianImageFilter<FloatImage, FloatImage>::New();

		f->SetInput(in);
		f->SetSigma(sigma_mm);
		f->Update();
		std::memcpy(img->data, f->GetOutput()->GetBufferPointer(), twin_volume_bytes(img));
		return 0;
	} catch (const std::exception &e) {
		return fail(err, "smoothing", e);
	}
}

extern "C" struct twin_volume *twin_itk_distance(struct twin_err *err, const struct twin_volume *mask)
{
	struct twin_volume *out = NULL;

	try {
		want(mask, TWIN_U8, "the mask");
		out = twin_volume_new(err, TWIN_F32, mask->dim, &mask->affine);
		if (!out)
			return NULL;
		size_t n = twin_volume_count(mask), inside = 0;
		const unsigned char *m = static_cast<const unsigned char *>(mask->data);

		for (size_t i = 0; i < n; i++)
			inside += m[i] != 0;
		if (inside == 0) {
			float *d = static_cast<float *>(out->data);
			for (size_t i = 0; i < n; i++)
				d[i] = 1e9f;
			return out;
		}
		auto in = to_itk<ByteImage>(mask);
		auto f = itk::SignedMaurerDistanceMapImageFilter<ByteImage, FloatImage>::New();

		f->SetInput(in);
		f->SetBackgroundValue(0);
		f->SetInsideIsPositive(false);
		f->SetSquaredDistance(false);
		f->SetUseImageSpacing(true);
		f->Update();
		std::memcpy(out->data, f->GetOutput()->GetBufferPointer(), twin_volume_bytes(out));
		return out;
	} catch (const std::exception &e) {
		twin_volume_free(out);
		fail(err, "distance map", e);
		return NULL;
	}
}

extern "C" struct twin_volume *twin_itk_components(struct twin_err *err, const struct twin_volume *mask,
						   size_t keep, size_t *count)
{
	struct twin_volume *out = NULL;

	try {
		want(mask, TWIN_U8, "the mask");
		out = twin_volume_new(err, TWIN_I16, mask->dim, &mask->affine);
		if (!out)
			return NULL;
		auto in = to_itk<ByteImage>(mask);
		auto cc = itk::ConnectedComponentImageFilter<ByteImage, LabelImage>::New();
		auto rl = itk::RelabelComponentImageFilter<LabelImage, LabelImage>::New();

		cc->SetInput(in);
		cc->SetFullyConnected(false);
		rl->SetInput(cc->GetOutput());
		rl->Update();
		const unsigned int *l = rl->GetOutput()->GetBufferPointer();
		int16_t *o = static_cast<int16_t *>(out->data);
		size_t n = twin_volume_count(mask);

		if (keep > 32767)
			keep = 32767;
		for (size_t i = 0; i < n; i++)
			o[i] = l[i] <= keep ? static_cast<int16_t>(l[i]) : 0;
		if (count)
			*count = rl->GetNumberOfObjects();
		return out;
	} catch (const std::exception &e) {
		twin_volume_free(out);
		fail(err, "connected components", e);
		return NULL;
	}
}

extern "C" int twin_itk_fill_holes(struct twin_err *err, struct twin_volume *mask)
{
	try {
		want(mask, TWIN_U8, "the mask");
		auto in = to_itk<ByteImage>(mask);
		unsigned char *m = static_cast<unsigned char *>(in->GetBufferPointer());
		size_t n = twin_volume_count(mask);

		for (size_t i = 0; i < n; i++)
			m[i] = m[i] ? 1 : 0;
		auto f = itk::BinaryFillholeImageFilter<ByteImage>::New();

		f->SetInput(in);
		f->SetForegroundValue(1);
		f->SetFullyConnected(false);
		f->Update();
		std::memcpy(mask->data, f->GetOutput()->GetBufferPointer(), n);
		return 0;
	} catch (const std::exception &e) {
		return fail(err, "filling holes", e);
	}
}

extern "C" struct twin_volume *twin_itk_watershed(struct twin_err *err, const struct twin_volume *relief,
						  const struct twin_volume *markers)
{
	struct twin_volume *out = NULL;

	try {
		want(relief, TWIN_F32, "the relief");
		want(markers, TWIN_U8, "the markers");
		same_grid(relief, markers);
		out = twin_volume_new(err, TWIN_U8, markers->dim, &markers->affine);
		if (!out)
			return NULL;
		auto r = to_itk<FloatImage>(relief);
		auto m = to_itk<ByteImage>(markers);
		auto f = itk::MorphologicalWatershedFromMarkersImageFilter<FloatImage, ByteImage>::New();

		f->SetInput(r);
		f->SetMarkerImage(m);
		f->SetMarkWatershedLine(false);
		f->SetFullyConnected(false);
		f->Update();
		std::memcpy(out->data, f->GetOutput()->GetBufferPointer(), twin_volume_bytes(out));
		return out;
	} catch (const std::exception &e) {
		twin_volume_free(out);
		fail(err, "watershed", e);
		return NULL;
	}
}

extern "C" int twin_itk_otsu(struct twin_err *err, const struct twin_volume *img,
			     const struct twin_volume *mask, unsigned n, unsigned bins, double *out)
{
	using Histogram = itk::Statistics::Histogram<double>;

	try {
		want(img, TWIN_F32, "the image");
		want(mask, TWIN_U8, "the mask");
		same_grid(img, mask);
		if (n < 1 || n > 4 || bins < 8)
			throw std::runtime_error("want 1 to 4 thresholds and at least 8 bins");
		const float *v = static_cast<const float *>(img->data);
		const unsigned char *m = static_cast<const unsigned char *>(mask->data);
		size_t count = twin_volume_count(img), used = 0;
		double lo = 0.0, hi = 0.0;

		for (size_t i = 0; i < count; i++) {
			if (!m[i])
				continue;
			if (used == 0 || v[i] < lo)
				lo = used == 0 ? v[i] : lo < v[i] ? lo : v[i];
			if (used == 0 || v[i] > hi)
				hi = used == 0 ? v[i] : hi > v[i] ? hi : v[i];
			used++;
		}
		if (used < 2 || hi <= lo)
			return twin_err_set(err, TWIN_EINPUT, "otsu: fewer than 2 distinct values in the mask");
		auto h = Histogram::New();
		Histogram::SizeType size(1);
		Histogram::MeasurementVectorType lower(1), upper(1), mv(1);

		size[0] = bins;
		lower[0] = lo;
		upper[0] = hi + (hi - lo) * 1e-6;
		h->SetMeasurementVectorSize(1);
		h->Initialize(size, lower, upper);
		for (size_t i = 0; i < count; i++) {
			if (!m[i])
				continue;
			mv[0] = v[i];
			h->IncreaseFrequencyOfMeasurement(mv, 1);
		}
		auto calc = itk::OtsuMultipleThresholdsCalculator<Histogram>::New();

		calc->SetInputHistogram(h);
		calc->SetNumberOfThresholds(n);
		calc->Compute();
		const auto &t = calc->GetOutput();
		for (unsigned i = 0; i < n; i++)
			out[i] = t[i];
		return 0;
	} catch (const std::exception &e) {
		return fail(err, "otsu thresholds", e);
	}
}
