#ifndef SIMPOOL_CNCURSES_SHIM_H
#define SIMPOOL_CNCURSES_SHIM_H

/* Wide-character ncurses: these must be defined before the header is read. */
#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <ncursesw/curses.h>

/* Function-like macros are invisible to Swift; these wrappers make them callable. */
static inline int spx_color_pair(int n) { return COLOR_PAIR(n); }
static inline int spx_getmaxy(WINDOW *w) { return getmaxy(w); }
static inline int spx_getmaxx(WINDOW *w) { return getmaxx(w); }
static inline WINDOW *spx_stdscr(void) { return stdscr; }
static inline int spx_colors(void) { return COLORS; }
static inline int spx_color_pairs(void) { return COLOR_PAIRS; }

#endif
