//! The picture the `image` tool returns: a small RGB gradient encoded as a real PNG, by hand.
//! A PNG is a signature and three chunks; its pixels go in a zlib stream, which may use
//! *stored* (uncompressed) blocks — so neither an image crate nor a compressor is needed, only
//! the CRC-32 and Adler-32 checksums, written out below.

/// The eight bytes every PNG file starts with.
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Width and height of the gradient, in pixels.
pub const SIZE: u32 = 64;

/// A `SIZE`×`SIZE` gradient (red across, blue down, a green ridge on the diagonal) as PNG bytes.
pub fn gradient() -> Vec<u8> {
    let side = SIZE as usize;
    // Each row: filter type 0 (none), then R, G, B for every pixel.
    let mut raw = Vec::with_capacity(side * (1 + 3 * side));
    for y in 0..side {
        raw.push(0);
        for x in 0..side {
            let scale = |v: usize| (v * 255 / (side - 1)) as u8;
            let ridge = 255 - scale(x.abs_diff(y));
            raw.extend_from_slice(&[scale(x), ridge / 2 + 64, scale(y)]);
        }
    }
    encode_rgb(SIZE, SIZE, &raw)
}

/// A PNG (8-bit RGB, not interlaced) from already filtered scanlines.
fn encode_rgb(width: u32, height: u32, scanlines: &[u8]) -> Vec<u8> {
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), compression 0, filter 0, no interlace.
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = SIGNATURE.to_vec();
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib_stored(scanlines));
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Length, type, data, CRC-32 of type and data.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream (RFC 1950) of stored DEFLATE blocks (RFC 1951 §3.2.4).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    const MAX_BLOCK: usize = u16::MAX as usize;
    // CMF 0x78: deflate, 32 KiB window; FLG 0x01 makes CMF·256 + FLG a multiple of 31.
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(MAX_BLOCK).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        out.push(u8::from(last));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in bytes {
        a = (a + u32::from(byte)) % MOD;
        b = (b + a) % MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    /// Parse the file back: chunk CRCs, the header, and the stored blocks' contents.
    #[test]
    fn gradient_is_a_well_formed_png() {
        let png = gradient();
        assert_eq!(png[..8], SIGNATURE);
        let mut at = 8;
        let mut kinds = Vec::new();
        let mut idat = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind = &png[at + 4..at + 8];
            let data = &png[at + 8..at + 8 + len];
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc, crc32(&png[at + 4..at + 8 + len]), "CRC of {kind:?}");
            if kind == b"IHDR" {
                assert_eq!(data[..8], [0, 0, 0, 64, 0, 0, 0, 64]);
                assert_eq!(data[8..], [8, 2, 0, 0, 0]);
            }
            if kind == b"IDAT" {
                idat.extend_from_slice(data);
            }
            kinds.push(String::from_utf8(kind.to_vec()).unwrap());
            at += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);

        assert_eq!((u16::from(idat[0]) << 8 | u16::from(idat[1])) % 31, 0);
        let mut pixels = Vec::new();
        let mut at = 2;
        loop {
            let last = idat[at] & 1 == 1;
            assert_eq!(idat[at] >> 1, 0, "a stored block");
            let len = u16::from_le_bytes([idat[at + 1], idat[at + 2]]);
            let nlen = u16::from_le_bytes([idat[at + 3], idat[at + 4]]);
            assert_eq!(len, !nlen);
            pixels.extend_from_slice(&idat[at + 5..at + 5 + len as usize]);
            at += 5 + len as usize;
            if last {
                break;
            }
        }
        let adler = u32::from_be_bytes(idat[at..at + 4].try_into().unwrap());
        assert_eq!(adler, adler32(&pixels));
        assert_eq!(pixels.len(), 64 * (1 + 3 * 64));
        // Top-left is black-ish red/blue, bottom-right full red and blue.
        assert_eq!((pixels[1], pixels[3]), (0, 0));
        let last = pixels.len() - 3;
        assert_eq!((pixels[last], pixels[last + 2]), (255, 255));
    }
}
