#ifndef SIMPOOL_CNCURSES_SHIM_H
#define SIMPOOL_CNCURSES_SHIM_H

/* Wide-character ncurses: these must be defined before the header is read. */
#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

/* Function-like macros are invisible to Swift; these wrappers make them callable. */
static inline int spx_color_pair(int n) { return COLOR_PAIR(n); }
static inline int spx_getmaxy(WINDOW *w) { return getmaxy(w); }
static inline int spx_getmaxx(WINDOW *w) { return getmaxx(w); }
static inline WINDOW *spx_stdscr(void) { return stdscr; }
static inline int spx_colors(void) { return COLORS; }
static inline int spx_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t spx_a_bold(void) { return A_BOLD; }
static inline attr_t spx_a_reverse(void) { return A_REVERSE; }
static inline attr_t spx_a_normal(void) { return A_NORMAL; }

/* One wide character with attributes and an extended colour pair. */
static inline int spx_put_cell(int y, int x, wchar_t character, attr_t attributes, int pair) {
    cchar_t cell;
    wchar_t text[2] = {character, 0};
    setcchar(&cell, text, attributes, 0, &pair);
    return mvadd_wch(y, x, &cell);
}

/* The colour count of terminfo entry `name` (-1 when there is no such entry), read
   without starting curses. */
static inline int spx_terminfo_colors(const char *name) {
    int error = 0;
    if (setupterm((char *)name, -1, &error) != OK) return -1;
    int colors = tigetnum((char *)"colors");
    del_curterm(cur_term);
    return colors;
}

/* Mouse masks are macros built from the mouse protocol version. */
static inline mmask_t spx_all_mouse_events(void) { return ALL_MOUSE_EVENTS; }
static inline mmask_t spx_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline mmask_t spx_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t spx_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t spx_button5_pressed(void) { return BUTTON5_PRESSED; }

#endif
