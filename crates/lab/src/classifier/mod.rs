//! Training and evaluation of the ticket classifier (`triage train` / `triage eval`); the
//! model format and inference are in [`triage_core::classifier`], which the service loads.

pub mod cli;
pub mod data;
pub mod eval;
pub mod train;

pub use eval::{ClassMetrics, EvalReport};
pub use train::{cross_validate, train, Corpus, CvReport, FoldResult, Loss, TrainConfig};
pub use triage_core::classifier::{
    features, model, FeatureConfig, Model, ModelError, Prediction, Scratch, TrainingInfo,
    FORMAT_VERSION, MAGIC,
};

use std::path::PathBuf;

/// Errors of training, evaluation and their CLI.
#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A model file could not be used.
    #[error("model {path}: {source}")]
    Model {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: triage_core::classifier::ModelError,
    },
    /// The data cannot be trained or evaluated on.
    #[error("{0}")]
    Data(String),
    /// Invalid settings.
    #[error("invalid settings: {0}")]
    Config(String),
}

/// Reads a model file.
pub fn load_model(path: &std::path::Path) -> Result<Model, ModelError> {
    Model::read(path, &|p| std::fs::read(p))
}

/// Writes a model file (via a temporary file and a rename); returns its size.
pub fn save_model(model: &Model, path: &std::path::Path) -> Result<u64, ModelError> {
    let bytes = model.to_bytes();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let io = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&tmp, &bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(bytes.len() as u64)
}
