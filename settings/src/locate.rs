//! Finds the line of a configuration value from its key path, so that a semantic error found after
//! parsing (shares that do not sum to 1, an undefined vesting schedule) still points at a line.

use std::fmt;

use toml_edit::{ArrayOfTables, Document, Item, Table, Value};

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A key inside a table.
    Key(String),
    /// An element of an array or array of tables.
    Index(usize),
}

/// The path of a value in the file, such as `pools.liquidity.classes[2].share`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    /// The path of the whole document.
    pub fn root() -> Self {
        Self::default()
    }

    /// This path extended by a key.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.into()));
        Self(segments)
    }

    /// This path extended by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        Self(segments)
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Line lookups over the text of one configuration file.
pub struct LineLocator<'a> {
    text: &'a str,
    document: Option<Document<&'a str>>,
}

impl<'a> LineLocator<'a> {
    /// Parses `text` once for the lookups; an unparsable text simply yields no lines.
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            document: Document::parse(text).ok(),
        }
    }

    /// The 1-based line of a byte offset.
    pub fn line_of_offset(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// The line where `path` is written, or where its nearest written ancestor is.
    ///
    /// For a key, the line of the key itself is preferred (that is what a reader looks for); for
    /// an element of an array of tables, the line of its `[[header]]`.
    pub fn line_of(&self, path: &KeyPath) -> Option<usize> {
        let document = self.document.as_ref()?;
        let mut node = Node::Table(document.as_table());
        let mut best: Option<usize> = None;
        for segment in path.segments() {
            let Some((next, start)) = node.child(segment) else {
                break;
            };
            best = start.or(best);
            node = next;
        }
        best.map(|offset| self.line_of_offset(offset))
    }
}

/// A position in the parsed document while walking a key path.
#[derive(Clone, Copy)]
enum Node<'d> {
    Table(&'d Table),
    Value(&'d Value),
    Tables(&'d ArrayOfTables),
}

impl<'d> Node<'d> {
    fn from_item(item: &'d Item) -> Option<Self> {
        match item {
            Item::Table(table) => Some(Self::Table(table)),
            Item::Value(value) => Some(Self::Value(value)),
            Item::ArrayOfTables(tables) => Some(Self::Tables(tables)),
            Item::None => None,
        }
    }

    /// The child at `segment`, with the byte offset where it (or its key) is written.
    fn child(self, segment: &Segment) -> Option<(Self, Option<usize>)> {
        match (self, segment) {
            (Self::Table(table), Segment::Key(key)) => {
                let item = table.get(key)?;
                let start = table
                    .key(key)
                    .and_then(|k| k.span())
                    .or_else(|| item.span());
                Some((Self::from_item(item)?, start.map(|s| s.start)))
            }
            (Self::Value(Value::InlineTable(table)), Segment::Key(key)) => {
                let value = table.get(key)?;
                let start = table
                    .key(key)
                    .and_then(|k| k.span())
                    .or_else(|| value.span());
                Some((Self::Value(value), start.map(|s| s.start)))
            }
            (Self::Value(Value::Array(array)), Segment::Index(index)) => {
                let value = array.get(*index)?;
                Some((Self::Value(value), value.span().map(|s| s.start)))
            }
            (Self::Tables(tables), Segment::Index(index)) => {
                let table = tables.get(*index)?;
                Some((Self::Table(table), table.span().map(|s| s.start)))
            }
            _ => None,
        }
    }
}
