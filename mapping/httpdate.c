/* HTTP-date (RFC 9110 s5.6.7) as seconds since 1970-01-01T00:00:00Z, for the freshness an
 * origin's Expires and Date give (RFC 9111 s4.2.1). A recipient MUST accept all three forms:
 *   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT
 *   rfc850-date  Sunday, 06-Nov-94 08:49:37 GMT
 *   asctime      Sun Nov  6 08:49:37 1994
 * RFC 9110 s5.6.7 reads an rfc850 two-digit year more than 50 years ahead as in the past; that
 * needs a clock, which mapping/ does not read, so the window is fixed: 70-99 are 19xx, 00-69
 * are 20xx. Dates before 1970 are refused: no freshness comes from them. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hcm_internal.h"

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int month_of(const char *name)
{
    for (int i = 0; i < 12; i++)
        if (strncmp(name, months[i], 3) == 0)
            return i + 1;
    return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static bool assemble(int year, int month, int day, int hh, int mm, int ss, long long *out)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (month < 1 || day < 1 || day > mdays[month - 1] || hh > 23 || mm > 59 || ss > 60 ||
        year < 1970)
        return false;
    *out = days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss;
    return true;
}

bool hcm__http_date(const char *s, long long *out)
{
    char wkday[16], mon[4], zone[4], rest;
    int day, year, hh, mm, ss, n = 0;

    s += strspn(s, " \t");
    /* IMF-fixdate */
    if (sscanf(s, "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d %3s%n", wkday, &day, mon, &year, &hh, &mm,
               &ss, zone, &n) == 8 && n > 0 && strcmp(zone, "GMT") == 0 &&
        sscanf(s + n, " %c", &rest) != 1)
        return assemble(year, month_of(mon), day, hh, mm, ss, out);
    /* rfc850-date */
    if (sscanf(s, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n", wkday, &day, mon, &year, &hh, &mm,
               &ss, zone, &n) == 8 && n > 0 && strcmp(zone, "GMT") == 0 &&
        sscanf(s + n, " %c", &rest) != 1)
        return assemble(year + (year < 70 ? 2000 : 1900), month_of(mon), day, hh, mm, ss, out);
    /* asctime-date */
    if (sscanf(s, "%3[A-Za-z] %3s %2d %2d:%2d:%2d %4d%n", wkday, mon, &day, &hh, &mm, &ss, &year,
               &n) == 7 && n > 0 && sscanf(s + n, " %c", &rest) != 1)
        return assemble(year, month_of(mon), day, hh, mm, ss, out);
    return false;
}
