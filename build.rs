// Templates under overlays/ are embedded with include_dir!, which cargo does
// not track: rebuild whenever anything there changes.
fn main() {
    println!("cargo:rerun-if-changed=overlays");
}
