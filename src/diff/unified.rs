//! A line diff (Myers' greedy O(ND) algorithm, after trimming the common
//! head and tail) and its unified form: `@@ -a,b +c,d @@` hunks with three
//! lines of context. The same two texts always give the same output.
//!
//! Lines are compared with their line ends; a last line without one is
//! shown followed by `\ No newline at end of file`, as diff(1) shows it.

/// Lines of context around each change.
pub const CONTEXT: usize = 3;

/// Past this many differing lines (after the common head and tail), the
/// middle is shown as all removed, then all added: still a correct diff,
/// without the algorithm's quadratic memory.
const MAX_EDITS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Keep,
    Del,
    Ins,
}

/// One line of the edit script: its tag and its index in the old and new
/// text (for a removed line, the new index is where it would have been;
/// the other way round for an added one).
#[derive(Debug, Clone, Copy)]
struct Op {
    tag: Tag,
    old: usize,
    new: usize,
}

/// `text` as lines, each with its `\n` (the last may have none).
pub fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// The unified diff of `old` and `new` under the two header names, each
/// shown line passed through `show` (masking); empty when the texts are
/// the same.
pub fn unified(
    old: &str,
    new: &str,
    old_name: &str,
    new_name: &str,
    show: &dyn Fn(&str) -> String,
) -> String {
    let a = lines(old);
    let b = lines(new);
    let ops = script(&a, &b);
    let changes: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].tag != Tag::Keep)
        .collect();
    if changes.is_empty() {
        return String::new();
    }
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    // Hunks: runs of changes no more than 2*CONTEXT kept lines apart.
    let mut i = 0;
    while i < changes.len() {
        let start = changes[i].saturating_sub(CONTEXT);
        let mut last = changes[i];
        while i + 1 < changes.len() && changes[i + 1] - last <= 2 * CONTEXT {
            i += 1;
            last = changes[i];
        }
        let end = (last + CONTEXT + 1).min(ops.len());
        hunk(&mut out, &ops[start..end], &a, &b, show);
        i += 1;
    }
    out
}

fn hunk(out: &mut String, ops: &[Op], a: &[&str], b: &[&str], show: &dyn Fn(&str) -> String) {
    let old_n = ops.iter().filter(|o| o.tag != Tag::Ins).count();
    let new_n = ops.iter().filter(|o| o.tag != Tag::Del).count();
    // diff(1): an empty range starts at the line before it.
    let at = |first: usize, n: usize| if n == 0 { first } else { first + 1 };
    out.push_str(&format!(
        "@@ -{},{} +{},{} @@\n",
        at(ops[0].old, old_n),
        old_n,
        at(ops[0].new, new_n),
        new_n
    ));
    for o in ops {
        let (mark, line) = match o.tag {
            Tag::Keep => (' ', b[o.new]),
            Tag::Del => ('-', a[o.old]),
            Tag::Ins => ('+', b[o.new]),
        };
        out.push(mark);
        let body = line.strip_suffix('\n');
        out.push_str(&show(body.unwrap_or(line)));
        out.push('\n');
        if body.is_none() {
            out.push_str("\\ No newline at end of file\n");
        }
    }
}

/// The edit script turning `a` into `b`, in order.
fn script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let mut ops: Vec<Op> = (0..head)
        .map(|i| Op {
            tag: Tag::Keep,
            old: i,
            new: i,
        })
        .collect();
    let (am, bm) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let middle = myers(am, bm).unwrap_or_else(|| {
        (0..am.len())
            .map(|i| Op {
                tag: Tag::Del,
                old: i,
                new: 0,
            })
            .chain((0..bm.len()).map(|j| Op {
                tag: Tag::Ins,
                old: am.len(),
                new: j,
            }))
            .collect()
    });
    ops.extend(middle.into_iter().map(|o| Op {
        tag: o.tag,
        old: o.old + head,
        new: o.new + head,
    }));
    let (a0, b0) = (a.len() - tail, b.len() - tail);
    ops.extend((0..tail).map(|i| Op {
        tag: Tag::Keep,
        old: a0 + i,
        new: b0 + i,
    }));
    ops
}

/// Myers' shortest edit script; None past [`MAX_EDITS`].
fn myers(a: &[&str], b: &[&str]) -> Option<Vec<Op>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = (n + m) as usize;
    // v[k + off]: the furthest x on diagonal k; trace[d] is v before round
    // d, for k in -(d+1)..=d+1 (index k + d + 1).
    let off = max as isize + 1;
    let mut v = vec![0isize; 2 * max + 3];
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let get = |v: &[isize], k: isize| v[(k + off) as usize];
    for d in 0..=max as isize {
        if d as usize > MAX_EDITS {
            return None;
        }
        trace.push(v[(off - d - 1) as usize..=(off + d + 1) as usize].to_vec());
        let mut k = -d;
        while k <= d {
            let mut x = if k == -d || (k != d && get(&v, k - 1) < get(&v, k + 1)) {
                get(&v, k + 1)
            } else {
                get(&v, k - 1) + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[(k + off) as usize] = x;
            if x >= n && y >= m {
                return Some(backtrack(&trace, n, m));
            }
            k += 2;
        }
    }
    Some(backtrack(&trace, n, m))
}

fn backtrack(trace: &[Vec<isize>], n: isize, m: isize) -> Vec<Op> {
    let mut ops = Vec::new();
    let (mut x, mut y) = (n, m);
    for (d, v) in trace.iter().enumerate().rev() {
        let d = d as isize;
        let get = |k: isize| v[(k + d + 1) as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && get(k - 1) < get(k + 1)) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = get(prev_k);
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            x -= 1;
            y -= 1;
            ops.push(Op {
                tag: Tag::Keep,
                old: x as usize,
                new: y as usize,
            });
        }
        if d > 0 {
            if x == prev_x {
                ops.push(Op {
                    tag: Tag::Ins,
                    old: x as usize,
                    new: (y - 1) as usize,
                });
            } else {
                ops.push(Op {
                    tag: Tag::Del,
                    old: (x - 1) as usize,
                    new: y as usize,
                });
            }
        }
        x = prev_x;
        y = prev_y;
    }
    ops.reverse();
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: &str) -> String {
        s.to_string()
    }

    /// Applies the script to `a`: it must give `b`, whatever the texts.
    fn apply(a: &[&str], b: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for o in script(a, b) {
            match o.tag {
                Tag::Keep => {
                    assert_eq!(a[o.old], b[o.new]);
                    out.push(a[o.old].to_string());
                }
                Tag::Ins => out.push(b[o.new].to_string()),
                Tag::Del => {}
            }
        }
        out
    }

    #[test]
    fn every_script_turns_the_old_text_into_the_new() {
        let texts = [
            "",
            "a\n",
            "a\nb\nc\n",
            "a\nx\nc\n",
            "c\nb\na\n",
            "a\nb\nc\nd\ne\nf\ng\n",
            "b\nc\nd\nq\nf\ng\nh\n",
            "a\nb",
        ];
        for x in texts {
            for y in texts {
                let (a, b) = (lines(x), lines(y));
                assert_eq!(apply(&a, &b).concat(), y, "{x:?} -> {y:?}");
            }
        }
    }

    #[test]
    fn a_minimal_script_for_a_known_pair() {
        // Myers' example: ABCABBA -> CBABAC takes 5 edits.
        let a: Vec<&str> = "ABCABBA".split("").filter(|s| !s.is_empty()).collect();
        let b: Vec<&str> = "CBABAC".split("").filter(|s| !s.is_empty()).collect();
        let edits = script(&a, &b).iter().filter(|o| o.tag != Tag::Keep).count();
        assert_eq!(edits, 5);
    }

    #[test]
    fn hunks_have_three_lines_of_context_and_diff1_headers() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new = old.replace("10\n", "ten\n").replace("19\n", "");
        let d = unified(&old, &new, "a/f", "b/f", &plain);
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n\
             @@ -7,7 +7,7 @@\n 7\n 8\n 9\n-10\n+ten\n 11\n 12\n 13\n\
             @@ -16,5 +16,4 @@\n 16\n 17\n 18\n-19\n 20\n"
        );
        // Changes closer than 2*3 lines share one hunk.
        let near = old.replace("10\n", "ten\n").replace("16\n", "sixteen\n");
        assert_eq!(
            unified(&old, &near, "a", "b", &plain)
                .matches("@@ -")
                .count(),
            1
        );
        assert_eq!(unified(&old, &old, "a", "b", &plain), "");
    }

    #[test]
    fn empty_sides_and_a_missing_last_newline() {
        assert_eq!(
            unified("", "x\n", "a", "b", &plain),
            "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+x\n"
        );
        assert_eq!(
            unified("x\n", "x", "a", "b", &plain),
            "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-x\n+x\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn shown_lines_go_through_the_mask() {
        let d = unified("pw=old\n", "pw=new\n", "a", "b", &|l: &str| {
            l.replace("old", "<secret>").replace("new", "<secret>")
        });
        assert!(!d.contains("old") && !d.contains("new"), "{d}");
        assert!(d.contains("-pw=<secret>\n+pw=<secret>\n"), "{d}");
    }

    #[test]
    fn a_very_different_text_is_all_removed_then_all_added() {
        let old: String = (0..3000).map(|i| format!("o{i}\n")).collect();
        let new: String = (0..3000).map(|i| format!("n{i}\n")).collect();
        let (a, b) = (lines(&old), lines(&new));
        assert_eq!(apply(&a, &b).concat(), new);
    }
}
