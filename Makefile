# dcm2twin — one plain Makefile.
#
#   make              libtwin.a, the four stages, dcm2twin, the tools under tests/
#   make deps         installs the Debian 12 packages that are missing (apt-get, as root)
#   make check        deps, build, every unit suite and black-box test, one summary line
#   make check-valgrind   the unit suites under valgrind
#   make demo         dcm2twin on a phantom study, into demo/case
#   make bench        the benchmarks in bench/
#
# V=1 shows the commands, SANITIZE=address,undefined builds with sanitizers
# (into build/san), DEVELOPER=1 adds -Werror and a longer warning list.

O := build
ifneq ($(SANITIZE),)
O := build/san
endif

CC = gcc
CXX = g++
PKG_CONFIG ?= pkg-config

# The Debian 12 packages the build, the tests and the benchmarks need.
DEB_PACKAGES = gcc g++ make pkg-config xxd valgrind \
	libdcmtk-dev dcmtk libopenjp2-7-dev \
	libinsighttoolkit5-dev \
	libgmsh-dev gmsh \
	libxml2-dev libxml2-utils \
	libcmocka-dev zlib1g-dev libdeflate-dev libpng-dev libssl-dev \
	dcm2niix python3-nibabel time \
	libsuitesparse-dev libopenblas0-pthread \
	libhdf5-dev calculix-ccx openfoam python3-meshio python3-h5py python3-vtk9 python3-dolfinx \
	chromium snakemake

PKGS = libxml-2.0 zlib libdeflate libpng libcrypto libopenjp2 hdf5-serial
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# Debian 12's dcmtk.pc requires sndfile.pc, which it does not ship: list the libraries.
DCMTK_LIBS = -ldcmect -ldcmfg -ldcmiod -ldcmjpls -ldcmjpeg -ldcmimage -ldcmimgle -ldcmdata \
	-lijg8 -lijg12 -lijg16 -ldcmtkcharls -loflog -lofstd
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

ITK_DIR := $(firstword $(wildcard /usr/include/ITK-5*))
ITK_CFLAGS := $(if $(ITK_DIR),-I$(ITK_DIR))
ITK_LIBS := -L/usr/lib $(foreach l,ITKLabelMap ITKSmoothing ITKStatistics ITKCommon itksys itkvnl_algo itkvnl itkv3p_netlib itkdouble-conversion,-l$(l)-5.2)

GMSH_LIBS := -lgmsh

WARN = -Wall -Wextra
ifeq ($(DEVELOPER),1)
WARN += -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wundef -Wvla -Wdeclaration-after-statement
endif
WARN_CXX = -Wall -Wextra $(if $(filter 1,$(DEVELOPER)),-Werror)

SAN := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer)
OPT ?= -O2 -g

CPPFLAGS += -Icommon -I/usr/include/suitesparse -D_XOPEN_SOURCE=700 -DTWIN_VERSION='"$(VERSION)"'
CFLAGS = -std=c11 $(OPT) $(WARN) $(SAN) -MMD -MP -pthread $(PKG_CFLAGS)
CXXFLAGS = -std=c++17 $(OPT) $(WARN_CXX) $(SAN) -MMD -MP -pthread $(PKG_CFLAGS) $(ITK_CFLAGS)
LDFLAGS += $(SAN) -pthread -Wl,--as-needed
LDLIBS = $(PKG_LIBS) $(DCMTK_LIBS) $(ITK_LIBS) $(GMSH_LIBS) -lcholmod -lm

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

ifneq ($(V),1)
Q = @
quiet = @printf '  %-7s %s\n' $(1) $(2);
endif

# --- what gets built ---------------------------------------------------------

COMMON_SRC := $(wildcard common/*.c)
# Each <dir>/<name>.xsd is compiled into its folder's library as twin_<name>_xsd[],
# a NUL-terminated string, so an installed program needs no data path.
XSD_OBJ := $(patsubst common/%.xsd,$(O)/common/%_xsd.o,$(wildcard common/*.xsd))
COMMON_OBJ := $(COMMON_SRC:%.c=$(O)/%.o) $(XSD_OBJ)
LIBTWIN := $(O)/libtwin.a

# A stage is a folder with a main.c; the rest of its sources form lib<stage>.a,
# which the unit tests and the tools under tests/ may link.
STAGES := $(foreach s,ingest segment mesh export,$(if $(wildcard $(s)/main.c),$(s)))
# workflow/ is the driver's folder: dcm2twin.c is its main, the rest libworkflow.a.
# It links first: its report validates series.xml and quality.xml against the
# schemas compiled into libingest.a and libmesh.a.
STAGE_LIBS := $(foreach s,workflow ingest segment mesh export,$(if $(wildcard $(s)/*.c $(s)/*.cc),$(O)/lib$(s).a))
stage_src = $(filter-out $(1)/main.c workflow/dcm2twin.c,$(wildcard $(1)/*.c)) $(wildcard $(1)/*.cc)
stage_obj = $(patsubst %.cc,$(O)/%.o,$(patsubst %.c,$(O)/%.o,$(call stage_src,$(1)))) \
	$(patsubst %.xsd,$(O)/%_xsd.o,$(wildcard $(1)/*.xsd))

BIN := $(O)/bin
PROGRAMS := $(STAGES:%=$(BIN)/twin-%) $(if $(wildcard tests/phantom/main.c),$(BIN)/twin-phantom)
# dcm2twin itself: the one-command driver, once it exists.
PROGRAMS += $(if $(wildcard workflow/dcm2twin.c),$(BIN)/dcm2twin)
# Small tools for tests and benchmarks: tests/tools/<name>.c -> $(BIN)/<name>.
TOOLS := $(patsubst tests/tools/%.c,$(BIN)/%,$(wildcard tests/tools/*.c))
# What the tools and the unit suites share: tests/tools/lib/*.c.
TEST_LIB_OBJ := $(patsubst %.c,$(O)/%.o,$(wildcard tests/tools/lib/*.c))
PROGRAMS += $(TOOLS)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

# Fuzz targets: each tests/fuzz/fuzz_<parser>.c defines LLVMFuzzerTestOneInput.
# make check links them with a replay main that runs tests/fuzz/corpus/<parser>/*.
FUZZ_SRC := $(filter-out tests/fuzz/replay.c,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(O)/tests/replay_%)
FUZZ_LIBFUZZER := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(O)/fuzz/fuzz_%)

LINK_LIBS = $(STAGE_LIBS) $(LIBTWIN)

.SECONDEXPANSION:
.SECONDARY:
.PHONY: all deps check check-valgrind demo bench fuzz fuzz-targets clean
.DEFAULT_GOAL := all
all: $(LIBTWIN) $(STAGE_LIBS) $(PROGRAMS) $(UNIT_BIN) $(FUZZ_REPLAY)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$@)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(call quiet,CXX,$@)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

$(O)/%_xsd.c: %.xsd
	@mkdir -p $(dir $@)
	$(call quiet,GEN,$@)(echo 'const char twin_$(notdir $*)_xsd[] = {'; \
	  xxd -i < $<; echo ', 0x00 };') > $@
$(O)/%_xsd.o: $(O)/%_xsd.c
	$(call quiet,CC,$@)$(CC) $(CFLAGS) -c -o $@ $<

$(LIBTWIN): $(COMMON_OBJ)
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(O)/lib%.a: $$(call stage_obj,$$*)
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(BIN)/twin-%: $(O)/%/main.o $(O)/lib%.a $(LIBTWIN)
	@mkdir -p $(dir $@)
	$(call quiet,LINK,$@)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/twin-phantom: $$(patsubst %.c,$(O)/%.o,$$(wildcard tests/phantom/*.c)) $(LINK_LIBS)
	@mkdir -p $(dir $@)
	$(call quiet,LINK,$@)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TOOLS): $(BIN)/%: $(O)/tests/tools/%.o $(TEST_LIB_OBJ) $(LINK_LIBS)
	@mkdir -p $(dir $@)
	$(call quiet,LINK,$@)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/dcm2twin: $(O)/workflow/dcm2twin.o $(LINK_LIBS)
	@mkdir -p $(dir $@)
	$(call quiet,LINK,$@)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/test_%: $(O)/tests/unit/test_%.o $(O)/tests/unit/twin_test.o $(TEST_LIB_OBJ) $(LINK_LIBS)
	@mkdir -p $(dir $@)
	$(call quiet,LINK,$@)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

$(O)/tests/replay_%: $(O)/tests/fuzz/fuzz_%.o $(O)/tests/fuzz/replay.o $(LINK_LIBS)
	@mkdir -p $(dir $@)
	$(call quiet,LINK,$@)$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer builds of every fuzz target: `make fuzz` rebuilds the tree with
# clang into build/fuzz (Debian's clang and libclang-rt-14-dev), then
# `build/fuzz/fuzz/fuzz_nifti NEW_DIR tests/fuzz/corpus/nifti` fuzzes one parser
# (new inputs go to NEW_DIR; add the telling ones to the corpus by hand).
fuzz:
	@command -v clang >/dev/null || { echo "fuzz: needs Debian's clang and libclang-rt-14-dev" >&2; exit 1; }
	@$(MAKE) --no-print-directory O=build/fuzz CC=clang CXX=clang++ \
	  SANITIZE=fuzzer-no-link,address,undefined fuzz-targets
fuzz-targets: $(FUZZ_LIBFUZZER)
# ITK 5.2 refuses clang 14, so a fuzz target links only the stage library its
# parser lives in (FUZZ_LIBS_<name>), never all of them.
FUZZ_LIBS_dicom = $(O)/libingest.a
# segment/seeds.c needs only libtwin: its object alone, as libsegment.a holds itk.cc.
FUZZ_LIBS_seeds = $(O)/segment/seeds.o
$(O)/fuzz/fuzz_%: $(O)/tests/fuzz/fuzz_%.o $$(FUZZ_LIBS_$$*) $(LIBTWIN)
	@mkdir -p $(dir $@)
	$(call quiet,FUZZ,$@)$(CXX) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# --- packages ----------------------------------------------------------------

# Installs only what is missing, and says what.
deps:
	@missing=; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	if [ "$$(id -u)" != 0 ]; then echo "deps: run 'make deps' as root to install:$$missing" >&2; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing >/dev/null \
	  || { echo "deps: apt-get install failed for:$$missing" >&2; exit 1; }

# --- tests -------------------------------------------------------------------

export TWIN_SHARED_DATA ?= $(abspath ../shared/data)
export TWIN_BIN := $(abspath $(BIN))
export TWIN_BUILD := $(abspath $(O))

E2E_SCRIPTS := $(sort $(wildcard tests/e2e/*.sh))

check: deps
	@$(MAKE) --no-print-directory all
	@tests/run.sh $(UNIT_BIN) $(FUZZ_REPLAY) $(E2E_SCRIPTS)

check-valgrind: deps
	@$(MAKE) --no-print-directory all
	@TWIN_VALGRIND=1 tests/run.sh $(UNIT_BIN)

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@failed=; for b in $(sort $(wildcard bench/*.sh)); do $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "bench: targets missed in:$$failed" >&2; exit 1; fi

clean:
	rm -rf build demo

-include $(shell find $(O) -name '*.d' 2>/dev/null)
