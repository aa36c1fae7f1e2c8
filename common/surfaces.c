#include "surfaces.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const struct {
	long a, b; /* a < b */
	const char *name;
} valves[] = {
	{ 2, 3, "mitral_valve" },     /* LA | LV */
	{ 3, 6, "aortic_valve" },     /* LV | aorta */
	{ 5, 7, "pulmonary_valve" },  /* RV | PA */
	{ 4, 5, "tricuspid_valve" },  /* RA | RV */
};

static void lower(char *out, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

int twin_surface_interface(char name[TWIN_SURFACE_NAME_MAX], long a, long b)
{
	const struct twin_label *la, *lb;
	char sa[24], sb[24];

	if (a > b) {
		long t = a;
		a = b;
		b = t;
	}
	la = twin_label_by_id(a);
	lb = twin_label_by_id(b);
	if (a == b || !la || !lb)
		return -1;
	for (size_t i = 0; i < sizeof(valves) / sizeof(valves[0]); i++)
		if (valves[i].a == a && valves[i].b == b) {
			snprintf(name, TWIN_SURFACE_NAME_MAX, "%s", valves[i].name);
			return TWIN_SURFACE_VALVE;
		}
	lower(sa, sizeof(sa), la->short_name);
	lower(sb, sizeof(sb), lb->short_name);
	if (la->kind == TWIN_LABEL_BACKGROUND && lb->kind == TWIN_LABEL_WALL) {
		snprintf(name, TWIN_SURFACE_NAME_MAX, "epicardium");
		return TWIN_SURFACE_EPICARDIUM;
	}
	if (la->kind == TWIN_LABEL_BACKGROUND) {
		snprintf(name, TWIN_SURFACE_NAME_MAX, "wall_%s", sb);
		return TWIN_SURFACE_WALL;
	}
	if (la->kind == TWIN_LABEL_WALL && lb->kind == TWIN_LABEL_BLOOD) {
		snprintf(name, TWIN_SURFACE_NAME_MAX, "endocardium_%s", sb);
		return TWIN_SURFACE_ENDOCARDIUM;
	}
	if (lb->kind == TWIN_LABEL_WALL && la->kind == TWIN_LABEL_BLOOD) {
		snprintf(name, TWIN_SURFACE_NAME_MAX, "endocardium_%s", sa);
		return TWIN_SURFACE_ENDOCARDIUM;
	}
	snprintf(name, TWIN_SURFACE_NAME_MAX, "interface_%s_%s", sa, sb);
	return TWIN_SURFACE_INTERFACE;
}

int twin_surface_cap(char name[TWIN_SURFACE_NAME_MAX], long id, unsigned n)
{
	const struct twin_label *l = twin_label_by_id(id);
	char s[24];
	int inlet;

	if (!l || l->kind != TWIN_LABEL_BLOOD)
		return -1;
	lower(s, sizeof(s), l->short_name);
	inlet = strcmp(l->name, "heart_atrium_left") == 0 || strcmp(l->name, "heart_atrium_right") == 0;
	snprintf(name, TWIN_SURFACE_NAME_MAX, "%s_%s_%u", inlet ? "inlet" : "outlet", s, n);
	return inlet ? TWIN_SURFACE_INLET : TWIN_SURFACE_OUTLET;
}

int twin_surface_kind_of(const char *name)
{
	static const struct {
		const char *prefix;
		int kind;
	} kinds[] = {
		{ "endocardium_", TWIN_SURFACE_ENDOCARDIUM },
		{ "wall_", TWIN_SURFACE_WALL },
		{ "interface_", TWIN_SURFACE_INTERFACE },
		{ "inlet_", TWIN_SURFACE_INLET },
		{ "outlet_", TWIN_SURFACE_OUTLET },
	};

	for (size_t i = 0; i < sizeof(valves) / sizeof(valves[0]); i++)
		if (strcmp(name, valves[i].name) == 0)
			return TWIN_SURFACE_VALVE;
	if (strcmp(name, "epicardium") == 0)
		return TWIN_SURFACE_EPICARDIUM;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(name, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
			return kinds[i].kind;
	return -1;
}
