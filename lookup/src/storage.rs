//! Where an artifact's bytes live: a private copy (the safe default, on huge pages where the OS
//! offers them), a read-only mapping of the file (an `unsafe` opt-in), or caller-provided bytes.
//!
//! Files are opened without blocking and must be regular files: a FIFO, a device or a
//! directory is refused before anything is read, and a private copy is read only after the
//! header and the length it declares check out, so a large file that is not an artifact costs
//! one 384-byte read.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::OpenError;
use crate::format::HEADER_LEN;
use crate::header;

/// Size of an x86-64 / AArch64 huge page: the unit in which [`Storage::copy`] aligns a copy.
pub(crate) const HUGE_PAGE: usize = 2 << 20;

/// The bytes of an artifact.
pub(crate) enum Storage {
    /// A read-only private mapping of the file.
    Mmap(memmap2::Mmap),
    /// A private copy in an anonymous mapping, starting at `at` (a 2 MiB boundary) so that
    /// the kernel can back it with huge pages; read-only once filled.
    Anon {
        map: memmap2::Mmap,
        at: usize,
        len: usize,
    },
    /// An owned, 8-byte aligned copy (`len` bytes are meaningful).
    Owned { words: Box<[u64]>, len: usize },
    /// Caller-provided bytes that live forever (`include_bytes!`), already aligned.
    Static(&'static [u8]),
}

impl Storage {
    /// A private copy of `len` bytes written by `fill`: in an anonymous mapping aligned to
    /// [`HUGE_PAGE`] and advised for transparent huge pages (Linux), so that the lookups' random
    /// reads miss the TLB far less often than on 4 KiB pages; an owned heap buffer when `len`
    /// is below one huge page (nothing to gain) or the mapping fails.
    pub(crate) fn copy(
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> std::io::Result<()>,
    ) -> std::io::Result<Storage> {
        Self::copy_from(len, HUGE_PAGE, fill)
    }

    /// [`Storage::copy`], mapping copies of at least `min_mapped` bytes.
    pub(crate) fn copy_from(
        len: usize,
        min_mapped: usize,
        fill: impl FnOnce(&mut [u8]) -> std::io::Result<()>,
    ) -> std::io::Result<Storage> {
        if len >= min_mapped {
            if let Ok(mut map) = memmap2::MmapMut::map_anon(len + HUGE_PAGE) {
                // Advice only: without transparent huge pages the copy still works on small ones.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                let at = (HUGE_PAGE - map.as_ptr() as usize % HUGE_PAGE) % HUGE_PAGE;
                fill(&mut map[at..at + len])?;
                let map = map.make_read_only()?;
                return Ok(Storage::Anon { map, at, len });
            }
        }
        let mut words = vec![0u64; len.div_ceil(8)].into_boxed_slice();
        fill(&mut bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..len])?;
        Ok(Storage::Owned { words, len })
    }

    /// Reads the artifact at `path` into a private copy: the header first, checked with the
    /// length it declares against the file's, then the rest.
    pub(crate) fn read(path: &Path) -> Result<Storage, OpenError> {
        let (mut file, len) = open_regular(path)?;
        let mut head = [0u8; HEADER_LEN];
        file.read_exact(&mut head)?;
        header::check_prefix(&head, len as u64)?;
        Ok(Storage::copy(len, |to| {
            to[..HEADER_LEN].copy_from_slice(&head);
            file.read_exact(&mut to[HEADER_LEN..])
        })?)
    }

    /// Maps the artifact at `path` read-only.
    ///
    /// # Safety
    /// The file must not be modified or truncated in place while the returned storage lives
    /// (see [`crate::Database::open_mmap`]).
    pub(crate) unsafe fn map(path: &Path) -> Result<Storage, OpenError> {
        let (file, _) = open_regular(path)?;
        // SAFETY: the caller promises that the file is not modified or truncated in place
        // while mapped (`Database::open_mmap`'s contract); every read through the mapping is
        // bounds-checked against the length that open validates.
        let map = unsafe { memmap2::MmapOptions::new().map(&file)? };
        // A hint: where the kernel can hold read-only file pages in 2 MiB folios, lookups then
        // miss the TLB less (a private copy gets huge pages deterministically).
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        Ok(Storage::Mmap(map))
    }

    #[inline(always)]
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mmap(m) => m,
            Storage::Anon { map, at, len } => map.get(*at..at + len).unwrap_or(&[]),
            Storage::Owned { words, len } => {
                let all: &[u8] = bytemuck::cast_slice(words);
                all.get(..*len).unwrap_or(&[])
            }
            Storage::Static(b) => b,
        }
    }
}

/// What a non-regular file is, for the error message.
fn kind_name(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading without blocking (a FIFO with no writer would block a plain open)
/// and returns it with its length, refusing anything but a regular file of at least a header's
/// length that fits the address space.
pub(crate) fn open_regular(path: &Path) -> Result<(File, usize), OpenError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: an open of a FIFO returns at once; on a regular file it changes nothing.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(OpenError::NotAFile {
            kind: kind_name(meta.file_type()),
        });
    }
    let len = meta.len();
    if len < HEADER_LEN as u64 {
        return Err(OpenError::TooShort { len: len as usize });
    }
    let len = usize::try_from(len).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::OutOfMemory,
            "the artifact is larger than the address space",
        )
    })?;
    Ok((file, len))
}
