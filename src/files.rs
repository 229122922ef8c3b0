//! The edge's access to files for the core: the rules file and the model files it names are read
//! here and handed to [`triage_core::rules::load`], which compiles them without opening anything.

use std::path::Path;

use triage_core::classifier::{Model, ModelError};
use triage_core::rules::{Diagnostic, Loaded};

/// Reads and compiles a rules file and the model files it names (relative to its directory).
pub fn load_rules(path: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    triage_core::rules::load(path, &|p| std::fs::read(p))
}

/// Reads a model file.
pub fn load_model(path: &Path) -> Result<Model, ModelError> {
    Model::read(path, &|p| std::fs::read(p))
}
