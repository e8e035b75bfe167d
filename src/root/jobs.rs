//! The job kinds the workers run.

use crate::generate;
use crate::jobs::kind::Registry;
use crate::learn::parameters::Optimise;
use crate::materials::ingest::IngestMaterial;

pub fn kinds() -> Registry {
    Registry::default().register::<IngestMaterial>().register::<generate::job::Request>().register::<Optimise>()
}
