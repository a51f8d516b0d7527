/**
 * Python's `fnmatch` as a regular expression, as Airflow's S3 wildcards use it: `*` matches any
 * run of characters, `/` included (unlike a shell glob), `?` one character, `[abc]` / `[!abc]` a set.
 */
export function fnmatchToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end === -1) re += "\\[";
      else {
        const set = pattern.slice(i + 1, end).replace(/\\/g, "\\\\");
        re += `[${set.startsWith("!") ? `^${set.slice(1)}` : set}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

/** The part of a pattern before its first wildcard: the prefix to list under. */
export function literalPrefix(pattern: string): string {
  const at = pattern.search(/[*?[]/);
  return at === -1 ? pattern : pattern.slice(0, at);
}
