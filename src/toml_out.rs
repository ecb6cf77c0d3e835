//! A small serde serializer that writes TOML the way `toml::to_string` lays
//! it out, without its cost (`toml` goes through a full `toml_edit`
//! document: about 40 µs per firstboot.toml, a fifth of a node's build).
//!
//! Layout: a table's plain values first, in field order, then its
//! sub-tables as `[a.b]` sections and its arrays of tables as `[[a.b]]`
//! sections, each after a blank line. Inside an element of an array of
//! tables, a table stays inline (`k = { x = 1, y = "z" }`): one line per
//! element. `None` fields are left out. Strings are TOML basic strings.
//! Only what a config struct needs is supported (structs, sequences,
//! strings, paths, booleans, integers, options); anything else is an
//! error, never a silent guess. Tests parse the output back with `toml`.

use serde::ser::{self, Impossible, Serialize};
use std::fmt::Write;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(String);

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// A value, fields kept in the order serde gives them.
enum V {
    Str(String),
    Int(i64),
    Bool(bool),
    Arr(Vec<V>),
    Tab(Vec<(&'static str, V)>),
}

/// `value` (a struct) as a TOML document.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, Error> {
    match value.serialize(Tree)? {
        Some(V::Tab(fields)) => {
            let mut out = String::new();
            table(&mut out, &mut Vec::new(), &fields);
            Ok(out)
        }
        _ => Err(Error("a TOML document is a struct".into())),
    }
}

fn is_table_array(v: &V) -> bool {
    matches!(v, V::Arr(items) if !items.is_empty() && items.iter().all(|i| matches!(i, V::Tab(_))))
}

/// A table's values, then its sections (`path` is the table's own).
fn table(out: &mut String, path: &mut Vec<&'static str>, fields: &[(&'static str, V)]) {
    for (k, v) in fields {
        if !matches!(v, V::Tab(_)) && !is_table_array(v) {
            let _ = writeln!(out, "{k} = {}", inline(v));
        }
    }
    for (k, v) in fields {
        path.push(k);
        match v {
            V::Tab(sub) => {
                let has_values = sub
                    .iter()
                    .any(|(_, v)| !matches!(v, V::Tab(_)) && !is_table_array(v));
                if has_values || sub.is_empty() {
                    let _ = writeln!(out, "\n[{}]", path.join("."));
                }
                table(out, path, sub);
            }
            V::Arr(items) if is_table_array(v) => {
                for item in items {
                    if let V::Tab(sub) = item {
                        let _ = writeln!(out, "\n[[{}]]", path.join("."));
                        for (k, v) in sub {
                            let _ = writeln!(out, "{k} = {}", inline(v));
                        }
                    }
                }
            }
            _ => {}
        }
        path.pop();
    }
}

/// A value on one line.
fn inline(v: &V) -> String {
    match v {
        V::Str(s) => basic_string(s),
        V::Int(n) => n.to_string(),
        V::Bool(b) => b.to_string(),
        V::Arr(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        V::Tab(fields) if fields.is_empty() => "{}".into(),
        V::Tab(fields) => {
            let kv: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k} = {}", inline(v)))
                .collect();
            format!("{{ {} }}", kv.join(", "))
        }
    }
}

/// A TOML basic string: `"`, `\` and control characters escaped.
fn basic_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Serializes into a [`V`]; `None` for a value to leave out.
struct Tree;

fn unsupported<T>(what: &str) -> Result<T, Error> {
    Err(Error(format!("{what} has no TOML form here")))
}

impl ser::Serializer for Tree {
    type Ok = Option<V>;
    type Error = Error;
    type SerializeSeq = Seq;
    type SerializeTuple = Impossible<Option<V>, Error>;
    type SerializeTupleStruct = Impossible<Option<V>, Error>;
    type SerializeTupleVariant = Impossible<Option<V>, Error>;
    type SerializeMap = Impossible<Option<V>, Error>;
    type SerializeStruct = Struct;
    type SerializeStructVariant = Impossible<Option<V>, Error>;

    fn serialize_bool(self, v: bool) -> Result<Option<V>, Error> {
        Ok(Some(V::Bool(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<Option<V>, Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Option<V>, Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Option<V>, Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Option<V>, Error> {
        Ok(Some(V::Int(v)))
    }
    fn serialize_u8(self, v: u8) -> Result<Option<V>, Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Option<V>, Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Option<V>, Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Option<V>, Error> {
        match i64::try_from(v) {
            Ok(v) => self.serialize_i64(v),
            Err(_) => unsupported("an integer above i64::MAX"),
        }
    }
    fn serialize_f32(self, _: f32) -> Result<Option<V>, Error> {
        unsupported("a float")
    }
    fn serialize_f64(self, _: f64) -> Result<Option<V>, Error> {
        unsupported("a float")
    }
    fn serialize_char(self, v: char) -> Result<Option<V>, Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<Option<V>, Error> {
        Ok(Some(V::Str(v.to_string())))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Option<V>, Error> {
        unsupported("bytes")
    }
    fn serialize_none(self) -> Result<Option<V>, Error> {
        Ok(None)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<Option<V>, Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Option<V>, Error> {
        unsupported("a unit")
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Option<V>, Error> {
        unsupported("a unit struct")
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Option<V>, Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<Option<V>, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Option<V>, Error> {
        unsupported("an enum with data")
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, Error> {
        Ok(Seq(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        unsupported("a tuple")
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        unsupported("a tuple struct")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        unsupported("an enum with data")
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        unsupported("a map")
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Struct, Error> {
        Ok(Struct(Vec::with_capacity(len)))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        unsupported("an enum with data")
    }
}

struct Seq(Vec<V>);

impl ser::SerializeSeq for Seq {
    type Ok = Option<V>;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        match v.serialize(Tree)? {
            Some(v) => {
                self.0.push(v);
                Ok(())
            }
            None => unsupported("a None in a list"),
        }
    }
    fn end(self) -> Result<Option<V>, Error> {
        Ok(Some(V::Arr(self.0)))
    }
}

struct Struct(Vec<(&'static str, V)>);

impl ser::SerializeStruct for Struct {
    type Ok = Option<V>;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        if let Some(v) = v.serialize(Tree)? {
            self.0.push((key, v));
        }
        Ok(())
    }
    fn skip_field(&mut self, _: &'static str) -> Result<(), Error> {
        Ok(())
    }
    fn end(self) -> Result<Option<V>, Error> {
        Ok(Some(V::Tab(self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Doc {
        name: String,
        inner: Inner,
        n: u64,
        flag: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        gone: Option<String>,
        items: Vec<Item>,
        tags: Vec<String>,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Inner {
        path: std::path::PathBuf,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Item {
        id: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        sub: Option<Inner>,
    }

    fn doc(name: &str) -> Doc {
        Doc {
            name: name.into(),
            inner: Inner {
                path: "/etc/x".into(),
            },
            n: 7,
            flag: true,
            gone: None,
            items: vec![
                Item {
                    id: 1,
                    sub: Some(Inner { path: "/a".into() }),
                },
                Item { id: 2, sub: None },
            ],
            tags: vec!["a".into(), "b".into()],
        }
    }

    #[test]
    fn lays_out_as_toml_does_and_parses_back() {
        let d = doc("plain");
        let text = to_string(&d).unwrap();
        assert_eq!(
            text,
            "name = \"plain\"\nn = 7\nflag = true\ntags = [\"a\", \"b\"]\n\n[inner]\npath = \"/etc/x\"\n\n[[items]]\nid = 1\nsub = { path = \"/a\" }\n\n[[items]]\nid = 2\n"
        );
        assert_eq!(toml::from_str::<Doc>(&text).unwrap(), d);
        // toml itself agrees, but for the inline table in an array element.
        let theirs = toml::to_string(&d).unwrap();
        assert_eq!(
            theirs.replace(
                "\n[items.sub]\npath = \"/a\"\n",
                "sub = { path = \"/a\" }\n"
            ),
            text
        );
    }

    #[test]
    fn strings_that_need_escapes_survive() {
        for s in [
            "a\"b",
            "back\\slash",
            "new\nline\ttab",
            "nul\u{0}bell\u{7}",
            "é ü",
        ] {
            let d = doc(s);
            let back: Doc = toml::from_str(&to_string(&d).unwrap()).unwrap();
            assert_eq!(back, d, "{s:?}");
        }
    }

    #[test]
    fn what_toml_cannot_say_is_an_error() {
        #[derive(Serialize)]
        struct F {
            x: f64,
        }
        assert!(to_string(&F { x: 1.0 }).is_err());
        assert!(to_string(&5u32).is_err());
        #[derive(Serialize)]
        struct Big {
            x: u64,
        }
        assert!(to_string(&Big { x: u64::MAX }).is_err());
    }
}
