//! A small unified line diff, so a person sees exactly what Latch is about to change in another
//! app's file before it is written. Config files are short, so a plain LCS over the lines that
//! differ (after trimming the common head and tail) is enough; a huge rewrite degrades to
//! "all old lines out, all new lines in" instead of using a lot of memory.

/// Lines of context around each change, as `diff -u` shows.
const CONTEXT: usize = 3;

/// Above this many cells the LCS table is not built (4 MB of `u32`).
const MAX_CELLS: usize = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equal,
    Delete,
    Insert,
}

/// `old` → `new` as a unified diff with `---`/`+++` headers; empty when they are equal.
pub(crate) fn unified(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = edit_script(&a, &b);

    // Old and new line positions before each op.
    let mut at = Vec::with_capacity(ops.len());
    let (mut i, mut j) = (0, 0);
    for op in &ops {
        at.push((i, j));
        match op {
            Op::Equal => {
                i += 1;
                j += 1;
            }
            Op::Delete => i += 1,
            Op::Insert => j += 1,
        }
    }

    let changes: Vec<usize> = (0..ops.len()).filter(|&k| ops[k] != Op::Equal).collect();
    let mut out = format!("--- {old_label}\n+++ {new_label}\n");
    let mut c = 0;
    while c < changes.len() {
        let start = changes[c].saturating_sub(CONTEXT);
        let mut last = changes[c];
        while c + 1 < changes.len() && changes[c + 1] <= last + 2 * CONTEXT {
            c += 1;
            last = changes[c];
        }
        c += 1;
        let end = (last + 1 + CONTEXT).min(ops.len());
        let span = &ops[start..end];
        let old_count = span.iter().filter(|o| **o != Op::Insert).count();
        let new_count = span.iter().filter(|o| **o != Op::Delete).count();
        let (i0, j0) = at[start];
        let first = |pos: usize, count: usize| if count == 0 { pos } else { pos + 1 };
        out.push_str(&format!(
            "@@ -{},{old_count} +{},{new_count} @@\n",
            first(i0, old_count),
            first(j0, new_count)
        ));
        for (k, op) in span.iter().enumerate() {
            let (i, j) = at[start + k];
            let (mark, line) = match op {
                Op::Equal => (' ', a[i]),
                Op::Delete => ('-', a[i]),
                Op::Insert => ('+', b[j]),
            };
            out.push(mark);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn edit_script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops = vec![Op::Equal; head];
    if (ma.len() + 1).saturating_mul(mb.len() + 1) > MAX_CELLS {
        ops.extend(std::iter::repeat_n(Op::Delete, ma.len()));
        ops.extend(std::iter::repeat_n(Op::Insert, mb.len()));
    } else {
        ops.extend(lcs(ma, mb));
    }
    ops.extend(std::iter::repeat_n(Op::Equal, tail));
    ops
}

/// The classic table: `t[i][j]` is the LCS length of `a[i..]` and `b[j..]`.
fn lcs(a: &[&str], b: &[&str]) -> Vec<Op> {
    let w = b.len() + 1;
    let mut t = vec![0u32; (a.len() + 1) * w];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            t[i * w + j] = if a[i] == b[j] {
                t[(i + 1) * w + j + 1] + 1
            } else {
                t[(i + 1) * w + j].max(t[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::with_capacity(a.len() + b.len());
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            ops.push(Op::Equal);
            i += 1;
            j += 1;
        } else if t[(i + 1) * w + j] >= t[i * w + j + 1] {
            ops.push(Op::Delete);
            i += 1;
        } else {
            ops.push(Op::Insert);
            j += 1;
        }
    }
    ops.extend(std::iter::repeat_n(Op::Delete, a.len() - i));
    ops.extend(std::iter::repeat_n(Op::Insert, b.len() - j));
    ops
}

#[cfg(test)]
mod tests {
    use super::unified;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("a\nb\n", "a\nb\n", "x", "x"), "");
    }

    #[test]
    fn one_hunk_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            unified(old, new, "a", "b"),
            "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn far_apart_changes_make_two_hunks_and_new_files_start_at_zero() {
        let old: String = (1..=20).map(|n| format!("{n}\n")).collect();
        let new: String = (1..=20)
            .map(|n| match n {
                2 => "two\n".to_owned(),
                19 => "nineteen\n".to_owned(),
                n => format!("{n}\n"),
            })
            .collect();
        let d = unified(&old, &new, "a", "b");
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(
            d.contains("-2\n+two\n") && d.contains("-19\n+nineteen\n"),
            "{d}"
        );
        assert_eq!(
            unified("", "{\n}\n", "/dev/null", "b"),
            "--- /dev/null\n+++ b\n@@ -0,0 +1,2 @@\n+{\n+}\n"
        );
    }

    #[test]
    fn insertion_in_the_middle() {
        let d = unified("a\nb\nc\n", "a\nb\nnew\nc\n", "x", "y");
        assert_eq!(d, "--- x\n+++ y\n@@ -1,3 +1,4 @@\n a\n b\n+new\n c\n");
    }
}
