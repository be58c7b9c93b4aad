//! Shared test harness: the test ground (real kube-apiserver + ministack on loopback) and an
//! independent IAM evaluator (`iam_sim`).
#![allow(dead_code)]

pub mod aws;
pub mod fixture;
pub mod iam_sim;
pub mod kube;
pub mod operator;
pub mod testground;
