//! Shared test harness: the test ground (real kube-apiserver + ministack on loopback).
#![allow(dead_code)]

pub mod aws;
pub mod fixture;
pub mod kube;
pub mod operator;
pub mod testground;
