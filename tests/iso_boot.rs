//! The new DVD boots like its base: a base ISO with the real ISOLINUX as
//! its El Torito boot image goes through `clusterkick iso`, then boots in
//! QEMU. ISOLINUX must come up, read the new isolinux.cfg (the base's own
//! lines and the appended node entries) and load a node entry's kernel and
//! initrd from the disc. Its console is on the serial port.

mod support;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

const ISOLINUX_BIN: &str = "/usr/lib/ISOLINUX/isolinux.bin";
const LDLINUX_C32: &str = "/usr/lib/syslinux/modules/bios/ldlinux.c32";
/// QEMU without KVM on a busy 2-core machine boots in a few seconds.
const WAIT: Duration = Duration::from_secs(90);

fn make_bootable_base(dir: &Path) -> std::path::PathBuf {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("isolinux")).unwrap();
    std::fs::create_dir_all(tree.join("repodata")).unwrap();
    std::fs::copy(
        require(ISOLINUX_BIN, "isolinux"),
        tree.join("isolinux/isolinux.bin"),
    )
    .unwrap();
    std::fs::copy(
        require(LDLINUX_C32, "syslinux-common"),
        tree.join("isolinux/ldlinux.c32"),
    )
    .unwrap();
    std::fs::write(
        tree.join("isolinux/isolinux.cfg"),
        "serial 0 115200\ndefault linux\nprompt 1\ntimeout 0\n\
         label linux\n  kernel vmlinuz\n  append initrd=initrd.img\n",
    )
    .unwrap();
    // Not a kernel: ISOLINUX loads both files, then refuses to boot it.
    std::fs::write(tree.join("isolinux/vmlinuz"), "not a kernel\n").unwrap();
    std::fs::write(tree.join("isolinux/initrd.img"), "not an initrd\n").unwrap();
    std::fs::write(tree.join("repodata/repomd.xml"), "<repomd/>\n").unwrap();
    let iso = dir.join("base.iso");
    let o = Command::new(require("xorriso", "xorriso"))
        .args(["-as", "mkisofs", "-quiet", "-o"])
        .arg(&iso)
        .args(["-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat"])
        .args(["-no-emul-boot", "-boot-load-size", "4", "-boot-info-table"])
        .args(["-R", "-J", "-V", "BOOTTEST"])
        .arg(&tree)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    iso
}

/// QEMU booting an ISO, its serial console collected as it comes.
struct Vm {
    child: Child,
    console: Arc<Mutex<String>>,
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Vm {
    fn boot(iso: &Path) -> Self {
        let mut child = Command::new(require("qemu-system-x86_64", "qemu-system-x86"))
            .args(["-m", "256", "-boot", "d", "-nic", "none", "-no-reboot"])
            .args(["-display", "none", "-monitor", "none", "-serial", "stdio"])
            .arg("-cdrom")
            .arg(iso)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let console = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&console);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self { child, console }
    }

    /// Waits until the console, from byte `from` on, holds `text`; returns
    /// where it ends.
    fn wait_for(&self, from: usize, text: &str) -> usize {
        let start = Instant::now();
        loop {
            {
                let c = self.console.lock().unwrap();
                if let Some(i) = c.get(from..).and_then(|s| s.find(text)) {
                    return from + i + text.len();
                }
                assert!(
                    start.elapsed() < WAIT,
                    "no {text:?} on the console after {WAIT:?}:\n{}",
                    &*c
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(format!("{line}\r").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
}

#[test]
fn test_new_iso_boots_isolinux_which_finds_the_node_entries() {
    let ws = Workspace::new();
    let t = tempfile::tempdir().unwrap();
    let base = make_bootable_base(t.path());
    let new = t.path().join("new.iso");
    let o = Command::new(CLUSTERKICK)
        .arg("iso")
        .arg(ws.profile())
        .arg("--base")
        .arg(&base)
        .arg("--out")
        .arg(&new)
        .arg("--helper")
        .arg(ws.helper())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let mut vm = Vm::boot(&new);
    let at = vm.wait_for(0, "ISOLINUX");
    let at = vm.wait_for(at, "boot:");
    // The base's own entry still boots as before.
    vm.type_line("linux");
    let at = vm.wait_for(at, "Loading initrd.img");
    let at = vm.wait_for(at, "Booting kernel failed");
    let at = vm.wait_for(at, "boot:");
    // A label that is not in the file fails, so that the next check means
    // something.
    vm.type_line("no-such-label");
    let at = vm.wait_for(at, "No such file");
    let at = vm.wait_for(at, "boot:");
    // The node's entry, appended by clusterkick: ISOLINUX finds it and
    // loads its kernel and initrd from the disc.
    vm.type_line("erase-and-install-an-node01");
    let at = vm.wait_for(at, "Loading vmlinuz");
    let at = vm.wait_for(at, "Loading initrd.img");
    vm.wait_for(at, "Booting kernel failed");
}
