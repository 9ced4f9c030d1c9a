//! The few pieces of the protobuf wire format that Google Authenticator's export
//! uses: varints and length-delimited fields, plus skipping of anything else a newer
//! exporter might add. Hand-written because the schema is two small messages; every
//! read is bounds-checked and errors carry the byte offset.

use zeroize::Zeroizing;

/// Why protobuf bytes could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("the data ends in the middle of a field (byte {offset})")]
    Truncated { offset: usize },
    #[error("a number at byte {offset} is longer than 10 bytes")]
    VarintTooLong { offset: usize },
    #[error("a field at byte {offset} uses wire type {wire_type}, which this format never uses")]
    WireType { wire_type: u8, offset: usize },
    #[error("a field at byte {offset} has the invalid field number 0")]
    FieldZero { offset: usize },
    #[error("field {field} at byte {offset} has the wrong type")]
    WrongType { field: u32, offset: usize },
}

/// One field's value as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Value<'a> {
    /// The value of a varint field; `WrongType` otherwise.
    pub fn varint(self, field: u32, offset: usize) -> Result<u64, ProtoError> {
        match self {
            Self::Varint(value) => Ok(value),
            _ => Err(ProtoError::WrongType { field, offset }),
        }
    }

    /// The bytes of a length-delimited field; `WrongType` otherwise.
    pub fn bytes(self, field: u32, offset: usize) -> Result<&'a [u8], ProtoError> {
        match self {
            Self::Bytes(bytes) => Ok(bytes),
            _ => Err(ProtoError::WrongType { field, offset }),
        }
    }
}

/// A field as read: its number, its value and where it started (for errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    pub number: u32,
    pub value: Value<'a>,
    pub offset: usize,
}

/// Reads the fields of one message in order.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
    /// Offset of `bytes` within the outermost message, so nested errors point at the
    /// right byte of the whole payload.
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            position: 0,
            base: 0,
        }
    }

    /// A reader for a nested message found at `base` within the outer payload.
    pub fn nested(bytes: &'a [u8], base: usize) -> Self {
        Self {
            bytes,
            position: 0,
            base,
        }
    }

    /// Absolute offset of the next byte to read.
    pub fn offset(&self) -> usize {
        self.base + self.position
    }

    /// The next field, `Ok(None)` at the end of the message.
    pub fn next_field(&mut self) -> Result<Option<Field<'a>>, ProtoError> {
        if self.position >= self.bytes.len() {
            return Ok(None);
        }
        let offset = self.offset();
        let key = self.varint()?;
        let wire_type = (key & 0x7) as u8;
        let number = u32::try_from(key >> 3).map_err(|_| ProtoError::WrongType {
            field: u32::MAX,
            offset,
        })?;
        if number == 0 {
            return Err(ProtoError::FieldZero { offset });
        }
        let value = match wire_type {
            0 => Value::Varint(self.varint()?),
            1 => Value::Fixed64(u64::from_le_bytes(self.array::<8>()?)),
            2 => {
                let len_offset = self.offset();
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| ProtoError::Truncated { offset: len_offset })?;
                Value::Bytes(self.take(len)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(self.array::<4>()?)),
            // 3/4 are the long-deprecated groups; 6/7 do not exist.
            _ => return Err(ProtoError::WireType { wire_type, offset }),
        };
        Ok(Some(Field {
            number,
            value,
            offset,
        }))
    }

    /// Offset (absolute) at which a `Bytes` value returned by the last call began.
    pub fn bytes_start(&self, value: &[u8]) -> usize {
        self.offset() - value.len()
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let offset = self.offset();
        let mut value = 0u64;
        for shift in 0..10 {
            let Some(&byte) = self.bytes.get(self.position) else {
                return Err(ProtoError::Truncated {
                    offset: self.offset(),
                });
            };
            self.position += 1;
            // Bits beyond 64 in the tenth byte are dropped, as protobuf decoders do.
            value |= u64::from(byte & 0x7f) << (7 * shift);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtoError::VarintTooLong { offset })
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], ProtoError> {
        let end = self
            .position
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len());
        let Some(end) = end else {
            return Err(ProtoError::Truncated {
                offset: self.base + self.bytes.len(),
            });
        };
        let taken = &self.bytes[self.position..end];
        self.position = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtoError> {
        let offset = self.offset();
        self.take(N)?
            .try_into()
            .map_err(|_| ProtoError::Truncated { offset })
    }
}

/// Builds a message. The buffer holds secrets, so it is wiped on drop, and growing it
/// copies into a fresh wiped-on-drop buffer instead of letting `Vec` reallocate
/// (which would leave the old bytes in freed memory).
#[derive(Debug, Default)]
pub struct Writer {
    bytes: Zeroizing<Vec<u8>>,
}

impl Writer {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Zeroizing::new(Vec::with_capacity(capacity)),
        }
    }

    pub fn varint_field(&mut self, number: u32, value: u64) {
        self.reserve(20);
        self.raw_varint(u64::from(number) << 3);
        self.raw_varint(value);
    }

    pub fn bytes_field(&mut self, number: u32, value: &[u8]) {
        self.reserve(20 + value.len());
        self.raw_varint(u64::from(number) << 3 | 2);
        self.raw_varint(value.len() as u64);
        self.bytes.extend_from_slice(value);
    }

    pub fn into_bytes(self) -> Zeroizing<Vec<u8>> {
        self.bytes
    }

    fn raw_varint(&mut self, mut value: u64) {
        loop {
            // Low seven bits per byte; the cast keeps exactly those.
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.bytes.push(byte);
                return;
            }
            self.bytes.push(byte | 0x80);
        }
    }

    fn reserve(&mut self, extra: usize) {
        let needed = self.bytes.len() + extra;
        if needed > self.bytes.capacity() {
            let mut bigger =
                Zeroizing::new(Vec::with_capacity(needed.max(self.bytes.capacity() * 2)));
            bigger.extend_from_slice(&self.bytes);
            self.bytes = bigger;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(bytes: &[u8]) -> Result<Vec<(u32, Value<'_>)>, ProtoError> {
        let mut reader = Reader::new(bytes);
        let mut out = Vec::new();
        while let Some(field) = reader.next_field()? {
            out.push((field.number, field.value));
        }
        Ok(out)
    }

    #[test]
    fn reads_every_wire_type() {
        // field 1 varint 300; field 2 fixed64; field 3 bytes "hi"; field 4 fixed32
        let bytes = [
            0x08, 0xac, 0x02, //
            0x11, 1, 0, 0, 0, 0, 0, 0, 0, //
            0x1a, 2, b'h', b'i', //
            0x25, 2, 0, 0, 0,
        ];
        assert_eq!(
            fields(&bytes).unwrap(),
            vec![
                (1, Value::Varint(300)),
                (2, Value::Fixed64(1)),
                (3, Value::Bytes(b"hi")),
                (4, Value::Fixed32(2))
            ]
        );
    }

    #[test]
    fn writer_output_reads_back() {
        let mut writer = Writer::with_capacity(1);
        writer.varint_field(7, u64::MAX);
        writer.bytes_field(1, &[0xab; 300]);
        writer.varint_field(2, 0);
        let bytes = writer.into_bytes();
        let read = fields(&bytes).unwrap();
        assert_eq!(read[0], (7, Value::Varint(u64::MAX)));
        assert_eq!(read[1], (1, Value::Bytes(&[0xab; 300])));
        assert_eq!(read[2], (2, Value::Varint(0)));
    }

    #[test]
    fn damaged_input_is_an_error_not_a_panic() {
        assert_eq!(fields(&[0x08]), Err(ProtoError::Truncated { offset: 1 }));
        assert_eq!(
            fields(&[0x0a, 5, 1]),
            Err(ProtoError::Truncated { offset: 3 })
        );
        assert_eq!(
            fields(&[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ]),
            Err(ProtoError::VarintTooLong { offset: 1 })
        );
        assert_eq!(
            fields(&[0x0b]),
            Err(ProtoError::WireType {
                wire_type: 3,
                offset: 0
            })
        );
        assert_eq!(fields(&[0x00]), Err(ProtoError::FieldZero { offset: 0 }));
        // A length of 2^64-1 must not overflow the bounds check.
        assert!(
            fields(&[
                0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ])
            .is_err()
        );
        assert_eq!(
            fields(&[0x11, 1, 2]),
            Err(ProtoError::Truncated { offset: 3 })
        );
    }
}
