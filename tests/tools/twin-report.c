/*
 * twin-report: writes CASE/report.html with twin_report_write, for the
 * tests until `dcm2twin --report CASE` exists. Exits with the twin exit code.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "../../workflow/report.h"

int main(int argc, char **argv)
{
	struct twin_err err;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: twin-report CASE_DIR\nWrites CASE_DIR/report.html.\n");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: twin-report CASE_DIR\n");
		return 2;
	}
	twin_err_init(&err);
	if (twin_report_write(&err, argv[1]) != 0) {
		fprintf(stderr, "twin-report: %s\n", err.msg);
		return twin_err_exit_code(&err);
	}
	return 0;
}
