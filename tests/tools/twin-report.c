/*
 * twin-report: writes CASE/report.html with twin_report_write, as
 * `dcm2twin --report CASE` does, for the tests. Exits with the twin exit code.
 */
#include "cli.h"
#include "err.h"
#include "../../workflow/report.h"

static const struct twin_cli_spec spec = {
	"twin-report", "CASE_DIR", 1, 1, "writes CASE_DIR/report.html", NULL, 0,
};

int main(int argc, char **argv)
{
	struct twin_err err;
	struct twin_cli cli;
	int rc = 0;

	twin_err_init(&err);
	if (twin_cli_parse(&err, &cli, &spec, argc, argv) != 0)
		rc = twin_cli_error(&cli, &err);
	else if (!cli.done && twin_report_write(&err, cli.args[0]) != 0)
		rc = twin_cli_error(&cli, &err);
	twin_cli_release(&cli);
	return rc;
}
