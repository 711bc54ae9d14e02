//! Pattern files: `NAME definition` lines, `#` comments, loaded from the embedded `patterns/`
//! and from a user directory that may override or extend them.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use super::GrokError;

/// The pattern files shipped in `patterns/`, embedded at build time.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("base.grok", include_str!("../../patterns/base.grok")),
    ("alb.grok", include_str!("../../patterns/alb.grok")),
    (
        "alb-connection.grok",
        include_str!("../../patterns/alb-connection.grok"),
    ),
    ("nlb.grok", include_str!("../../patterns/nlb.grok")),
    ("elb.grok", include_str!("../../patterns/elb.grok")),
    (
        "alb-health-check.grok",
        include_str!("../../patterns/alb-health-check.grok"),
    ),
];

/// Where a definition was read from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone)]
pub struct Definition {
    pub name: String,
    pub body: String,
    pub origin: Origin,
}

/// Every named pattern known, later files overriding earlier ones by name.
#[derive(Debug, Clone, Default)]
pub struct PatternLibrary {
    definitions: HashMap<String, Definition>,
}

impl PatternLibrary {
    /// The library made of the embedded pattern files only.
    pub fn embedded() -> Self {
        let mut library = Self::default();
        for (file, text) in EMBEDDED {
            library
                .add_text(file, text)
                .expect("embedded pattern files are checked by the test suite");
        }
        library
    }

    /// The embedded library, then every file of `dir` (sorted by name) on top of it.
    pub fn with_overrides(dir: Option<&Path>) -> Result<Self, GrokError> {
        let mut library = Self::embedded();
        if let Some(dir) = dir {
            library.add_dir(dir)?;
        }
        Ok(library)
    }

    /// Adds the definitions of every regular file in `dir`, in file-name order.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), GrokError> {
        let read_err = |source| GrokError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let path = entry.map_err(read_err)?.path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if path.is_file() && !hidden {
                files.push(path);
            }
        }
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| GrokError::Io {
                path: path.display().to_string(),
                source,
            })?;
            self.add_text(&path.display().to_string(), &text)?;
        }
        Ok(())
    }

    /// Adds the definitions of one pattern file's text.
    pub fn add_text(&mut self, file: &str, text: &str) -> Result<(), GrokError> {
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let origin = Origin {
                file: file.to_string(),
                line: index + 1,
            };
            let (name, body) = match line.split_once(char::is_whitespace) {
                Some((name, body)) => (name, body.trim_start()),
                None => (line, ""),
            };
            if !is_pattern_name(name) || body.is_empty() {
                return Err(GrokError::BadDefinition {
                    origin,
                    text: line.to_string(),
                });
            }
            self.definitions.insert(
                name.to_string(),
                Definition {
                    name: name.to_string(),
                    body: body.to_string(),
                    origin,
                },
            );
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Definition> {
        self.definitions.get(name)
    }

    /// All definitions, sorted by name (stable order for checks and listings).
    pub fn definitions(&self) -> Vec<&Definition> {
        let mut all: Vec<_> = self.definitions.values().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }
}

pub(crate) fn is_pattern_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
