// Templates under overlays/ (and the loader test's fixture tree) are
// embedded with include_dir!, which cargo does not track: rebuild whenever
// anything there changes.
fn main() {
    println!("cargo:rerun-if-changed=overlays");
    println!("cargo:rerun-if-changed=tests/fixtures/render");
}
