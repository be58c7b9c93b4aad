//! Shared test harness: the test ground (real kube-apiserver + ministack on loopback).
#![allow(dead_code)]

pub mod testground;
