//! The AWS regions where Rekognition Face Liveness is offered, kept in one place.
//!
//! A session must be created in the region the browser streams to, so a LivenessApp in a
//! region without Face Liveness can never work: validation refuses it up front. AWS adds
//! regions over time; an operator can accept more with `--extra-liveness-regions` without
//! waiting for a release. Each entry names the AWS source that lists it; check AWS's
//! regional services list before relying on a region.

/// Regions where Face Liveness was available at launch (2023). Source: the launch
/// announcement and the Face Liveness FAQ ("US East (N. Virginia), US West (Oregon),
/// Europe (Ireland), Asia Pacific (Tokyo), and Asia Pacific (Mumbai)").
pub const LAUNCH_REGIONS: [&str; 5] = [
    "us-east-1",      // US East (N. Virginia)
    "us-west-2",      // US West (Oregon)
    "eu-west-1",      // Europe (Ireland)
    "ap-northeast-1", // Asia Pacific (Tokyo)
    "ap-south-1",     // Asia Pacific (Mumbai)
];

/// Regions AWS added after launch. Source: AWS What's New, 2026-09-28, "Amazon Rekognition
/// Face Liveness now returns feedback codes", which lists Face Liveness in the launch
/// regions plus Asia Pacific (Malaysia, Thailand) and South America (São Paulo).
pub const ADDED_REGIONS: [&str; 3] = [
    "ap-southeast-5", // Asia Pacific (Malaysia)
    "ap-southeast-7", // Asia Pacific (Thailand)
    "sa-east-1",      // South America (São Paulo)
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
    fn listed_regions_are_accepted_and_others_need_the_flag() {
        for region in ["us-east-1", "ap-southeast-5", "sa-east-1"] {
            assert!(is_liveness_region(region, &[]), "{region}");
        }
        // Not in AWS's list (2026-09): Singapore, Frankfurt, Canada.
        for region in ["ap-southeast-1", "eu-central-1", "ca-central-1"] {
            assert!(!is_liveness_region(region, &[]), "{region}");
        }
        assert!(is_liveness_region("ca-central-1", &["ca-central-1".into()]));
        for region in known_regions(&[]) {
            assert!(crate::rules::region(&region).is_ok(), "{region}");
        }
    }
}
