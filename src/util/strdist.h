/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strdist: edit distance for "did you mean" suggestions in error messages.
 */
#ifndef RELAY_STRDIST_H
#define RELAY_STRDIST_H

#include <stddef.h>

/* Levenshtein distance between a[0..la) and the string b; capped at 99
 * for strings of 63 bytes or more (a suggestion would not help there). */
size_t strdist(const char *a, size_t la, const char *b);

#endif
