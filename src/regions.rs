//! The AWS regions where Rekognition Face Liveness is offered, kept in one place.
//!
//! A session must be created in the region the browser streams to, so a LivenessApp in a
//! region without Face Liveness can never work: validation refuses it up front. AWS adds
//! regions over time; an operator can accept more with `--extra-liveness-regions` without
//! waiting for a release. Check AWS's regional services list before relying on a region.

/// Regions where Face Liveness was available at launch (2023).
pub const LAUNCH_REGIONS: [&str; 5] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "ap-northeast-1",
    "ap-south-1",
];

/// Regions AWS added after launch, as this release knows them.
pub const ADDED_REGIONS: [&str; 6] = [
    "us-east-2",
    "eu-central-1",
    "eu-west-2",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
];

/// Whether Face Liveness is offered in `region`, counting the operator's extra regions.
pub fn is_liveness_region(region: &str, extra: &[String]) -> bool {
    LAUNCH_REGIONS.contains(&region)
        || ADDED_REGIONS.contains(&region)
        || extra.iter().any(|r| r == region)
}

/// All regions this release accepts, for messages and documentation.
pub fn known_regions(extra: &[String]) -> Vec<String> {
    let mut all: Vec<String> = LAUNCH_REGIONS
        .iter()
        .chain(ADDED_REGIONS.iter())
        .map(|r| r.to_string())
        .chain(extra.iter().cloned())
        .collect();
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_regions_are_accepted_and_others_need_the_flag() {
        assert!(is_liveness_region("us-east-1", &[]));
        assert!(!is_liveness_region("sa-east-1", &[]));
        assert!(is_liveness_region("sa-east-1", &["sa-east-1".into()]));
    }
}
