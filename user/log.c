// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "log.h"

int tcpf_verbose;

static void vlog(const char *fmt, va_list ap)
{
	fputs("tcpflags: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;

	if (!tcpf_verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!tcpf_verbose || (level == LIBBPF_DEBUG && tcpf_verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int print_libxdp(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	if (!tcpf_verbose || (level == LIBXDP_DEBUG && tcpf_verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void log_setup_libs(void)
{
	libbpf_set_print(print_libbpf);
	libxdp_set_print(print_libxdp);
}
