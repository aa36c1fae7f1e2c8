#include "twin_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "xml.h"

/* A tiny schema: <box size="N"><item>text</item>*</box>. */
static const char box_xsd[] =
	"<?xml version='1.0'?>\n"
	"<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'>\n"
	"  <xs:element name='box'>\n"
	"    <xs:complexType>\n"
	"      <xs:sequence>\n"
	"        <xs:element name='item' type='xs:string' minOccurs='0' maxOccurs='unbounded'/>\n"
	"      </xs:sequence>\n"
	"      <xs:attribute name='size' type='xs:nonNegativeInteger' use='required'/>\n"
	"    </xs:complexType>\n"
	"  </xs:element>\n"
	"</xs:schema>\n";

static int setup(void **state)
{
	*state = twin_test_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	twin_test_rmdir(*state);
	return 0;
}

/*
 * Parses text from memory (from_file 0) or from a file holding it (1). Both
 * use the same path as the name, so messages must agree.
 */
static xmlDoc *load(struct twin_err *err, const char *dir, const char *text, int from_file)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/in.xml", dir);
	twin_err_init(err);
	if (!from_file)
		return twin_xml_load_mem(err, "box", path, text, strlen(text));
	twin_test_write_file(path, text, strlen(text));
	return twin_xml_load(err, "box", path);
}

static void parses_good_xml(void **state)
{
	struct twin_err err;

	for (int mode = 0; mode < 2; mode++) {
		xmlDoc *doc = load(&err, *state, "<box size='2'>\n  <item>a &amp; b</item>\n</box>\n", mode);
		xmlNode *root, *item;
		char *v;

		assert_ptr_ok(err, doc);
		root = xmlDocGetRootElement(doc);
		assert_string_equal((const char *)root->name, "box");
		item = twin_xml_next(root->children, "item");
		assert_non_null(item);
		v = (char *)xmlNodeGetContent(item);
		assert_string_equal(v, "a & b");
		xmlFree(v);
		assert_null(twin_xml_next(item->next, "item"));
		xmlFreeDoc(doc);
	}
}

static void malformed_names_file_and_line(void **state)
{
	const char *dir = *state;
	struct twin_err err;
	char want[4200];

	snprintf(want, sizeof(want), "box '%s/in.xml': line 3: opening and ending tag mismatch: item line 2 and box",
		 dir);
	for (int mode = 0; mode < 2; mode++) {
		assert_null(load(&err, dir, "<box size='1'>\n<item>\n</box>\n", mode));
		assert_err(err, TWIN_EINPUT, want);
	}
	for (int mode = 0; mode < 2; mode++) {
		assert_null(load(&err, dir, "<box>\n<item>&#1;</item></box>", mode));
		assert_err(err, TWIN_EINPUT, "line 2: xmlParseCharRef: invalid xmlChar value 1");
	}
	for (int mode = 0; mode < 2; mode++) {
		assert_null(load(&err, dir, "", mode));
		assert_err(err, TWIN_EINPUT, "in.xml': file is empty");
	}
	for (int mode = 0; mode < 2; mode++) {
		assert_null(load(&err, dir, "<box size='1'><item>cut", mode));
		assert_err(err, TWIN_EINPUT, "in.xml': line 1: ");
	}
}

static void missing_file_is_io_error(void **state)
{
	struct twin_err err;

	twin_err_init(&err);
	assert_null(twin_xml_load(&err, "box", twin_test_path(*state, "absent.xml")));
	assert_err(err, TWIN_EIO, "absent.xml': No such file or directory");
	assert_non_null(strstr(err.msg, "box: cannot open '"));
}

static void doctype_is_refused(void **state)
{
	const char *dir = *state;
	char secret[4096], text[8192];
	struct twin_err err;

	snprintf(secret, sizeof(secret), "%s/secret.txt", dir);
	twin_test_write_file(secret, "TOPSECRET", 9);
	snprintf(text, sizeof(text),
		 "<?xml version='1.0'?>\n<!DOCTYPE box [<!ENTITY x SYSTEM 'file://%s'>]>\n"
		 "<box size='1'><item>&x;</item></box>", secret);
	for (int mode = 0; mode < 2; mode++) {
		assert_null(load(&err, dir, text, mode));
		assert_err(err, TWIN_EINPUT, "in.xml': a document type declaration (DOCTYPE) is not allowed");
		assert_null(strstr(err.msg, "TOPSECRET"));
	}
	assert_null(load(&err, dir, "<!DOCTYPE box SYSTEM 'box.dtd'><box size='1'/>", 0));
	assert_err(err, TWIN_EINPUT, "in.xml': a document type declaration (DOCTYPE) is not allowed");
}

static void validate_reports_first_violation(void **state)
{
	struct twin_err err;
	xmlDoc *doc;

	doc = load(&err, *state, "<box size='1'>\n<item>a</item>\n<thing/>\n</box>", 0);
	assert_ptr_ok(err, doc);
	assert_int_equal(twin_xml_validate(&err, "box", "b.xml", doc, box_xsd), -1);
	assert_err(err, TWIN_EINPUT, "box 'b.xml': line 3: element 'thing': This element is not expected");
	xmlFreeDoc(doc);

	doc = load(&err, *state, "<box size='-4'/>", 0);
	assert_ptr_ok(err, doc);
	assert_int_equal(twin_xml_validate(&err, "box", "b.xml", doc, box_xsd), -1);
	assert_err(err, TWIN_EINPUT, "box 'b.xml': line 1: element 'box', attribute 'size': '-4' is not a valid value");
	twin_err_init(&err);
	assert_int_equal(twin_xml_validate(&err, "box", "b.xml", doc, "<xs:schema xmlns:xs='nope'/>"), -1);
	assert_err(err, TWIN_EFAIL, "box 'b.xml': the compiled-in schema is broken");
	xmlFreeDoc(doc);

	doc = load(&err, *state, "<box size='4'><item/></box>", 0);
	assert_ptr_ok(err, doc);
	assert_ok(err, twin_xml_validate(&err, "box", "b.xml", doc, box_xsd));
	xmlFreeDoc(doc);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void save_validates_and_is_atomic(void **state)
{
	const char *dir = *state;
	char path[4096];
	struct twin_err err;
	xmlDoc *doc, *back;
	xmlNode *root;
	size_t len = 0;
	char *bytes;

	snprintf(path, sizeof(path), "%s/out.xml", dir);
	doc = load(&err, dir, "<box size='1'><item>x</item></box>", 0);
	assert_ptr_ok(err, doc);
	root = xmlDocGetRootElement(doc);
	xmlNewTextChild(root, NULL, (const xmlChar *)"item", (const xmlChar *)"<&>\"");
	assert_ok(err, twin_xml_save(&err, "box", path, doc, box_xsd));
	back = twin_xml_load(&err, "box", path);
	assert_ptr_ok(err, back);
	bytes = (char *)xmlNodeGetContent(xmlDocGetRootElement(back));
	assert_string_equal(bytes, "x<&>\"");
	xmlFree(bytes);
	xmlFreeDoc(back);

	/* An invalid document is not written, and the old file stays. */
	xmlNewChild(root, NULL, (const xmlChar *)"stray", NULL);
	assert_int_equal(twin_xml_save(&err, "box", path, doc, box_xsd), -1);
	assert_err(err, TWIN_EFAIL, "cannot write box '");
	assert_non_null(strstr(err.msg, "out.xml': line 5: element 'stray': This element is not expected"));
	bytes = twin_test_read_file(path, &len);
	assert_non_null(strstr(bytes, "<item>&lt;&amp;&gt;\"</item>"));
	assert_null(strstr(bytes, "stray"));
	free(bytes);
	/* in.xml was never written (memory load); only out.xml is here, no temporary file. */
	assert_int_equal(count_entries(dir), 1);

	/* Without a schema anything well-formed is written. */
	twin_err_init(&err);
	assert_ok(err, twin_xml_save(&err, "box", path, doc, NULL));
	bytes = twin_test_read_file(path, &len);
	assert_non_null(strstr(bytes, "<stray/>"));
	free(bytes);

	twin_err_init(&err);
	assert_int_equal(twin_xml_save(&err, "box", twin_test_path(dir, "no/such/dir/x.xml"), doc, NULL), -1);
	assert_err(err, TWIN_EIO, "no/such/dir/x.xml': No such file or directory");
	xmlFreeDoc(doc);
}

static void libxml2_prints_nothing(void **state)
{
	const char *log = twin_test_path(*state, "stderr.txt");
	struct twin_err err;
	int saved, fd;
	size_t len = 0;
	char *text;
	xmlDoc *doc;

	fflush(stderr);
	saved = dup(2);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	twin_err_init(&err);
	assert_null(twin_xml_load_mem(&err, "box", "bad.xml", "<a><b></a>", 10));
	doc = twin_xml_load_mem(&err, "box", "bad.xml", "<box size='x'/>", 15);
	twin_xml_validate(&err, "box", "bad.xml", doc, box_xsd);
	twin_xml_validate(&err, "box", "bad.xml", doc, "<not a schema");
	xmlFreeDoc(doc);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	text = twin_test_read_file(log, &len);
	assert_int_equal(len, 0);
	free(text);
	assert_err(err, TWIN_EINPUT, "box 'bad.xml': line 1: opening and ending tag mismatch");
}

static void text_dup_makes_xml_safe_text(void **state)
{
	char *s;

	(void)state;
	s = twin_xml_text_dup("a\x01" "b\tc\nd\x7f");
	assert_string_equal(s, "a?b\tc\nd?");
	free(s);
	s = twin_xml_text_dup("caf\xc3\xa9 \xe2\x82\xac");
	assert_string_equal(s, "caf\xc3\xa9 \xe2\x82\xac");
	free(s);
	/* Bad UTF-8: a lone continuation byte, an overlong '/', a cut sequence, a surrogate. */
	s = twin_xml_text_dup("x\x80y\xc0\xafz\xe2\x82" "\xed\xa0\x80");
	assert_string_equal(s, "x?y??z?????");
	free(s);
}

static void set_attr_formats_safe_text(void **state)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *node = xmlNewNode(NULL, (const xmlChar *)"n");
	char *v;

	(void)state;
	xmlDocSetRootElement(doc, node);
	assert_int_equal(twin_xml_set_attr(node, "spacing", "%g %g", 0.5, 1.25), 0);
	assert_int_equal(twin_xml_set_attr(node, "text", "a%cb", 1), 0);
	v = twin_xml_attr(node, "spacing", NULL);
	assert_string_equal(v, "0.5 1.25");
	free(v);
	v = twin_xml_attr(node, "text", NULL);
	assert_string_equal(v, "a?b");
	free(v);
	xmlFreeDoc(doc);
}

static void attr_numbers(void **state)
{
	const char *text = "<a\n u='18446744073709551615' d='-2.5e3' big='18446744073709551616'"
			   " neg='-1' junk='12x' nan='nan'/>";
	struct twin_err err;
	uint64_t u = 0;
	double d = 0;
	xmlDoc *doc;
	xmlNode *n;
	int absent = 0;
	char *s;

	(void)state;
	twin_err_init(&err);
	doc = twin_xml_load_mem(&err, "box", "a.xml", text, strlen(text));
	assert_ptr_ok(err, doc);
	n = xmlDocGetRootElement(doc);
	assert_ok(err, twin_xml_attr_u64(&err, "box", "a.xml", n, "u", &u));
	assert_true(u == UINT64_MAX);
	assert_ok(err, twin_xml_attr_double(&err, "box", "a.xml", n, "d", &d));
	assert_true(d == -2500.0);
	assert_int_equal(twin_xml_attr_u64(&err, "box", "a.xml", n, "big", &u), -1);
	assert_err(err, TWIN_EINPUT, "box 'a.xml': line 2: attribute 'big': out of range: '18446744073709551616'");
	twin_err_init(&err);
	assert_int_equal(twin_xml_attr_u64(&err, "box", "a.xml", n, "neg", &u), -1);
	assert_err(err, TWIN_EINPUT, "attribute 'neg': not a whole number: '-1'");
	twin_err_init(&err);
	assert_int_equal(twin_xml_attr_u64(&err, "box", "a.xml", n, "junk", &u), -1);
	assert_err(err, TWIN_EINPUT, "attribute 'junk': not a whole number: '12x'");
	twin_err_init(&err);
	assert_int_equal(twin_xml_attr_double(&err, "box", "a.xml", n, "nan", &d), -1);
	assert_err(err, TWIN_EINPUT, "attribute 'nan': out of range: 'nan'");
	twin_err_init(&err);
	assert_int_equal(twin_xml_attr_double(&err, "box", "a.xml", n, "gone", &d), -1);
	assert_err(err, TWIN_EINPUT, "attribute 'gone': is missing");
	s = twin_xml_attr(n, "gone", &absent);
	assert_null(s);
	assert_int_equal(absent, 1);
	s = twin_xml_attr(n, "junk", &absent);
	assert_string_equal(s, "12x");
	assert_int_equal(absent, 0);
	free(s);
	xmlFreeDoc(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(parses_good_xml, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_names_file_and_line, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_file_is_io_error, setup, teardown),
		cmocka_unit_test_setup_teardown(doctype_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(validate_reports_first_violation, setup, teardown),
		cmocka_unit_test_setup_teardown(save_validates_and_is_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(libxml2_prints_nothing, setup, teardown),
		cmocka_unit_test(text_dup_makes_xml_safe_text),
		cmocka_unit_test(set_attr_formats_safe_text),
		cmocka_unit_test(attr_numbers),
	};
	int rc = cmocka_run_group_tests_name("xml", tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
