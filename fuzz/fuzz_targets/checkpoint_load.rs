//! Checkpoint loading on arbitrary weight bytes (a run directory whose model.safetensors is the
//! input) and arbitrary training-state bytes: errors, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("din-fuzz-ckpt-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let w = dir.join("model.safetensors");
    if std::fs::write(&w, data).is_err() {
        return;
    }
    if let Ok(tensors) = din::checkpoint::read_weights(&w, &candle_core::Device::Cpu) {
        let cfg = din::model::ModelConfig {
            embed_dim: 4,
            attention_dims: vec![4],
            mlp_dims: vec![4],
            ..Default::default()
        };
        let _ = din::model::Model::from_tensors(cfg, tensors, &candle_core::Device::Cpu, din::model::DTYPE);
    }
    let _ = din::train::Trainer::read_state_info(&w);
});
