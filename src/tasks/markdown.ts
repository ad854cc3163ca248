// Markdown escaping for the run summaries the tasks upload (one place; the summaries differ only in which variant).

/** Escapes | ` * _ < > [ ] with a backslash; backslashes stay as they are (Windows paths read naturally). */
export const mdEscape = (s: string): string => s.replace(/[|`*_<>[\]]/g, (c) => `\\${c}`);

/** As mdEscape, and backslashes escaped too (text whose backslash must not escape the next character). */
export const mdEscapeAll = (s: string): string => s.replace(/[|`*_<>[\]\\]/g, (c) => `\\${c}`);

/** A table cell from any value: mdEscapeAll of its text, line breaks folded to spaces. */
export const mdCell = (s: string): string => mdEscapeAll(String(s)).replace(/\r?\n/g, ' ');
