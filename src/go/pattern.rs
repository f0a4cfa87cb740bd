//! Go's name matching: `path.Match` and the comma-separated prefix patterns of
//! GOPRIVATE, GONOPROXY, GONOSUMDB (`golang.org/x/mod/module.MatchPrefixPatterns`).
//! Tested with the vectors of Go's `path/match_test.go` and x/mod's `module_test.go`.

/// Reports whether `target` (a module path) matches any of the
/// comma-separated `globs` the way cmd/go matches GOPRIVATE:
/// `golang.org/x/mod/module.MatchPrefixPatterns`. A glob with N path elements
/// is matched with `path.Match` against the first N elements of the target,
/// so `example.com/corp` matches `example.com/corp/lib/v2` and `*.corp.com`
/// matches `git.corp.com/team/x`, but `*` never crosses a `/`.
#[must_use]
pub fn match_prefix_patterns(globs: &str, target: &str) -> bool {
    for glob in globs.split(',') {
        let glob = glob.strip_suffix('/').unwrap_or(glob);
        if glob.is_empty() {
            continue;
        }
        let mut n = glob.matches('/').count();
        let mut prefix = target;
        for (i, b) in target.bytes().enumerate() {
            if b == b'/' {
                if n == 0 {
                    prefix = &target[..i];
                    break;
                }
                n -= 1;
            }
        }
        if n > 0 {
            continue;
        }
        if path_match(glob, prefix) == Ok(true) {
            return true;
        }
    }
    false
}

/// The pattern is malformed (Go's `path.ErrBadPattern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

/// Go's `path.Match`: `*` matches any run of non-`/` characters, `?` one
/// non-`/` character, `[...]` a class (with `^` negation and `a-z` ranges),
/// `\` escapes. The whole name must match.
pub fn path_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let mut pat: &[char] = &pattern;
    let mut name: &[char] = &name;
    'pattern: while !pat.is_empty() {
        let (star, chunk, rest) = scan_chunk(pat);
        pat = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains(&'/'));
        }
        let (t, ok, err) = match_chunk(chunk, name);
        if ok && (t.is_empty() || !pat.is_empty()) {
            name = t;
            continue;
        }
        if err {
            return Err(BadPattern);
        }
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != '/' {
                let (t, ok, err) = match_chunk(chunk, &name[i + 1..]);
                if ok {
                    if pat.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'pattern;
                }
                if err {
                    return Err(BadPattern);
                }
                i += 1;
            }
        }
        while !pat.is_empty() {
            let (_, chunk, rest) = scan_chunk(pat);
            pat = rest;
            if match_chunk(chunk, &[]).2 {
                return Err(BadPattern);
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn scan_chunk(mut pattern: &[char]) -> (bool, &[char], &[char]) {
    let mut star = false;
    while pattern.first() == Some(&'*') {
        pattern = &pattern[1..];
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            '\\' if i + 1 < pattern.len() => i += 1,
            '[' => in_range = true,
            ']' => in_range = false,
            '*' if !in_range => return (star, &pattern[..i], &pattern[i..]),
            _ => {}
        }
        i += 1;
    }
    (star, pattern, &[])
}

/// Returns (rest of `s`, matched, pattern error).
fn match_chunk<'s>(mut chunk: &[char], mut s: &'s [char]) -> (&'s [char], bool, bool) {
    let mut failed = false;
    while !chunk.is_empty() {
        failed = failed || s.is_empty();
        match chunk[0] {
            '[' => {
                let mut r = '\0';
                if !failed {
                    r = s[0];
                    s = &s[1..];
                }
                chunk = &chunk[1..];
                let mut negated = false;
                if chunk.first() == Some(&'^') {
                    negated = true;
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let Some((lo, rest)) = get_esc(chunk) else { return (&[], false, true) };
                    chunk = rest;
                    let mut hi = lo;
                    if chunk[0] == '-' {
                        let Some((h, rest)) = get_esc(&chunk[1..]) else { return (&[], false, true) };
                        hi = h;
                        chunk = rest;
                    }
                    matched = matched || (lo <= r && r <= hi);
                    nrange += 1;
                }
                failed = failed || matched == negated;
            }
            '?' => {
                if !failed {
                    failed = s[0] == '/';
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
            c => {
                let c = if c == '\\' {
                    chunk = &chunk[1..];
                    match chunk.first() {
                        Some(&c) => c,
                        None => return (&[], false, true),
                    }
                } else {
                    c
                };
                if !failed {
                    failed = c != s[0];
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed { (&[], false, false) } else { (s, true, false) }
}

/// A possibly escaped character of a class; `None` for a malformed class.
/// Like Go, the class must not end right after it.
fn get_esc(chunk: &[char]) -> Option<(char, &[char])> {
    let mut chunk = chunk;
    match chunk.first() {
        None | Some('-' | ']') => return None,
        Some('\\') => {
            chunk = &chunk[1..];
            chunk.first()?;
        }
        _ => {}
    }
    let rest = &chunk[1..];
    if rest.is_empty() {
        return None;
    }
    Some((chunk[0], rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_patterns_match_like_x_mod() {
        // x/mod's TestMatchPrefixPatterns; since x/mod v0.18 a trailing `/` on a
        // glob is dropped, so "rsc.io/" matches rsc.io/quote (Go 1.26 vendors that).
        let cases: &[(&str, &str, bool)] = &[
            ("*/quote", "rsc.io/quote", true),
            ("*/quo", "rsc.io/quote", false),
            ("*/quo??", "rsc.io/quote", true),
            ("*/quo*", "rsc.io/quote", true),
            ("*quo*", "rsc.io/quote", false),
            ("rsc.io", "rsc.io/quote", true),
            ("*.io", "rsc.io/quote", true),
            ("rsc.io/", "rsc.io/quote", true),
            ("rsc", "rsc.io/quote", false),
            ("rsc*", "rsc.io/quote", true),
            ("rsc.io", "rsc.io/quote/v3", true),
            ("*/quote", "rsc.io/quote/v3", true),
            ("*/quote/*", "rsc.io/quote/v3", true),
            ("*/v3", "rsc.io/quote/v3", false),
            ("*/*/v3", "rsc.io/quote/v3", true),
            ("*/*/*", "rsc.io/quote/v3", true),
            ("*/*/*", "rsc.io/quote", false),
            ("*/*/*,,", "rsc.io/quote", false),
            ("*/*/*,,*/quote", "rsc.io/quote", true),
            (",,*/quote", "rsc.io/quote", true),
        ];
        for (globs, target, want) in cases {
            assert_eq!(match_prefix_patterns(globs, target), *want, "{globs} vs {target}");
        }
    }

    #[test]
    fn keep_globs_match_like_goprivate() {
        // Cases from golang.org/x/mod/module's TestMatchPrefixPatterns.
        let cases: &[(&str, &str, bool)] = &[
            ("*/quote", "rsc.io/quote", true),
            ("*/quo", "rsc.io/quote", false),
            ("*/quote", "rsc.io/quote/v3", true),
            ("rsc.io", "rsc.io/quote", true),
            ("rsc.io/", "rsc.io/quote", true),
            ("rsc.io/quote/", "rsc.io/quote", true),
            ("rsc.io/quote/v3", "rsc.io/quote", false),
            ("*.io", "rsc.io/quote", true),
            ("*.com", "rsc.io/quote", false),
            ("rsc.io/*", "rsc.io/quote/v3", true),
            ("*/x", "golang.org/x/text", true),
            ("", "rsc.io/quote", false),
            (",", "rsc.io/quote", false),
            ("foo,rsc.io", "rsc.io/quote", true),
            ("example.com/corp/*", "example.com/corp/lib/v2", true),
            ("example.com/corp/*", "example.com/corporate/lib", false),
            ("example.com/corp", "example.com/corp", true),
            ("git.[a-b]orp.com", "git.corp.com/x", false),
            ("git.[a-c]orp.com", "git.borp.com/x", true),
            ("git.[^a-c]orp.com", "git.corp.com/x", false),
            ("a?c.org", "abc.org/m", true),
            ("a\\*c.org", "a*c.org/m", true),
            ("a\\*c.org", "abc.org/m", false),
        ];
        for (globs, target, want) in cases {
            assert_eq!(match_prefix_patterns(globs, target), *want, "{globs} vs {target}");
        }
    }

    #[test]
    fn path_match_mirrors_go() {
        // Cases from Go's path/match_test.go.
        let ok: &[(&str, &str, bool)] = &[
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("a*", "ab/c", false),
            ("a*/b", "abc/b", true),
            ("a*/b", "a/c/b", false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^b-d]", "abc", false),
            ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a☺b", true),
            ("a[^a]b", "a☺b", true),
            ("a???b", "a☺b", false),
            ("a[^a][^a][^a]b", "a☺b", false),
            ("[a-ζ]*", "α", true),
            ("*[a-ζ]", "A", false),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
            ("[\\]a]", "]", true),
            ("[\\-]", "-", true),
            ("[x\\-]", "x", true),
            ("[x\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("[\\-x]", "x", true),
            ("[\\-x]", "-", true),
            ("[\\-x]", "a", false),
            ("*x", "xxx", true),
        ];
        for (p, n, want) in ok {
            assert_eq!(path_match(p, n), Ok(*want), "{p} vs {n}");
        }
        let bad: &[(&str, &str)] = &[
            ("[]a]", "]"),
            ("[-]", "-"),
            ("[x-]", "x"),
            ("[x-]", "-"),
            ("[x-]", "z"),
            ("[-x]", "x"),
            ("[-x]", "-"),
            ("[-x]", "a"),
            ("\\", "a"),
            ("[a-b-c]", "a"),
            ("[", "a"),
            ("[^", "a"),
            ("[^bc", "a"),
            ("a[", "a"),
            ("a[", "ab"),
            ("a[", "x"),
            ("a/b[", "x"),
            ("*x[", "xxx"),
        ];
        for (p, n) in bad {
            assert_eq!(path_match(p, n), Err(BadPattern), "{p} vs {n}");
        }
    }
}
