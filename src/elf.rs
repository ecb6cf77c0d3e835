//! Just enough of an ELF file's headers to tell whether a helper binary can
//! start on a platform's nodes: class, byte order, type, machine, and the
//! types of its program headers. Each platform decides what it accepts.

/// The fields of an ELF header that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// ELFCLASS64
    pub class64: bool,
    pub little_endian: bool,
    /// ET_EXEC = 2, ET_DYN = 3.
    pub e_type: u16,
    /// EM_X86_64 = 62.
    pub machine: u16,
    phoff: usize,
    phentsize: usize,
    phnum: usize,
}

pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
pub const EM_X86_64: u16 = 62;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

const TRUNCATED: &str = "its ELF header is truncated";

/// Reads the header of a 64-bit little-endian ELF file; other files are
/// refused with the reason.
pub fn header(b: &[u8]) -> Result<Header, String> {
    if b.len() < 64 || &b[..4] != b"\x7fELF" {
        return Err("it is not an ELF executable".into());
    }
    let class64 = b[4] == 2;
    let little_endian = b[5] == 1;
    if !class64 || !little_endian {
        return Err("it is not a 64-bit little-endian ELF file".into());
    }
    let bad = || TRUNCATED.to_string();
    Ok(Header {
        class64,
        little_endian,
        e_type: u16_at(b, 16).ok_or_else(bad)?,
        machine: u16_at(b, 18).ok_or_else(bad)?,
        phoff: u64_at(b, 32).ok_or_else(bad)? as usize,
        phentsize: u16_at(b, 54).ok_or_else(bad)? as usize,
        phnum: u16_at(b, 56).ok_or_else(bad)? as usize,
    })
}

impl Header {
    /// The type of each program header, in file order; an error names the
    /// first one that lies outside the file.
    pub fn program_header_types<'b>(
        &self,
        b: &'b [u8],
    ) -> impl Iterator<Item = Result<u32, String>> + 'b {
        let (phoff, phentsize) = (self.phoff, self.phentsize);
        (0..self.phnum).map(move |i| {
            phentsize
                .checked_mul(i)
                .and_then(|o| o.checked_add(phoff))
                .and_then(|o| u32_at(b, o))
                .ok_or_else(|| TRUNCATED.to_string())
        })
    }
}
