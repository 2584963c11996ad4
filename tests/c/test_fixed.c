#include <string.h>
#include "check.h"
#include "fixed.h"

static void test_parse(void)
{
    int64_t v;
    uint8_t dec;
    CHECK_EQ_I64(liq_decimal_parse("61685.99000000", 14, 2, &v, &dec), LIQ_OK);
    CHECK_EQ_I64(v, 6168599);
    CHECK_EQ_I64(dec, 8);
    CHECK_EQ_I64(liq_decimal_parse("0.5000", 6, 4, &v, &dec), LIQ_OK);
    CHECK_EQ_I64(v, 5000);
    CHECK_EQ_I64(dec, 4);
    CHECK_EQ_I64(liq_decimal_parse("1.005", 5, 2, &v, &dec), LIQ_ERR_PRECISION);
    CHECK_EQ_I64(liq_decimal_parse("abc", 3, 2, &v, &dec), LIQ_ERR_PARSE);
    CHECK_EQ_I64(liq_decimal_parse("", 0, 2, &v, &dec), LIQ_ERR_PARSE);
    CHECK_EQ_I64(liq_decimal_parse(".", 1, 2, &v, &dec), LIQ_ERR_PARSE);
    CHECK_EQ_I64(liq_decimal_parse("1e-7", 4, 8, &v, &dec), LIQ_OK);
    CHECK_EQ_I64(v, 10);
    CHECK_EQ_I64(dec, LIQ_DEC_NONE);
    CHECK_EQ_I64(liq_decimal_parse("-2.5", 4, 1, &v, &dec), LIQ_OK);
    CHECK_EQ_I64(v, -25);
    CHECK_EQ_I64(liq_decimal_parse("99999999999", 11, 9, &v, &dec), LIQ_ERR_OVERFLOW);
    CHECK_EQ_I64(liq_decimal_parse("00012.3400", 10, 2, &v, &dec), LIQ_OK);
    CHECK_EQ_I64(v, 1234);
}

static void test_format(void)
{
    char buf[LIQ_DECIMAL_BUF];
    liq_decimal_format(6168599, 2, 8, buf);
    CHECK(strcmp(buf, "61685.99000000") == 0);
    liq_decimal_format(5000, 4, LIQ_DEC_NONE, buf);
    CHECK(strcmp(buf, "0.5") == 0);
    liq_decimal_format(5000, 4, 4, buf);
    CHECK(strcmp(buf, "0.5000") == 0);
    liq_decimal_format(48, 8, 8, buf);
    CHECK(strcmp(buf, "0.00000048") == 0);
    liq_decimal_format(300, 2, LIQ_DEC_NONE, buf);
    CHECK(strcmp(buf, "3") == 0);
    liq_decimal_format(-25, 1, LIQ_DEC_NONE, buf);
    CHECK(strcmp(buf, "-2.5") == 0);
}

static void test_double(void)
{
    int64_t v;
    CHECK_EQ_I64(liq_fixed_from_double(60000.1, 1, &v), LIQ_OK);
    CHECK_EQ_I64(v, 600001);
    CHECK_EQ_I64(liq_fixed_from_double(0.1 + 0.2, 8, &v), LIQ_OK);
    CHECK_EQ_I64(v, 30000000);
    CHECK_EQ_I64(liq_fixed_from_double(1.005, 2, &v), LIQ_ERR_PRECISION);
    CHECK_EQ_I64(liq_fixed_from_double(0.0 / 0.0, 2, &v), LIQ_ERR_NAN);
    CHECK_EQ_I64(liq_fixed_from_double(1.0 / 0.0, 2, &v), LIQ_ERR_INF);
    CHECK_EQ_I64(liq_fixed_from_double(1e300, 2, &v), LIQ_ERR_OVERFLOW);
}

int main(void)
{
    test_parse();
    test_format();
    test_double();
    TEST_MAIN_END();
}
