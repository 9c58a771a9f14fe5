use candle_core::{DType, Device, Tensor, Var};
use din::model::{Network, ModelConfig, Model};
use std::time::Instant;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    din::tune_allocator();
    let model = Model::new(ModelConfig::default(), [1000, 100, 1000], 1, &Device::Cpu, DType::F32)?;
    let Network::Din(net) = &model.net else { return Ok(()) };
    let unit = &net.att_item;
    let (b, n, d) = (256usize, 2226usize, 64usize);
    let seg: Vec<u32> = (0..n).map(|i| (i * b / n) as u32).collect();
    let t = Var::from_tensor(&Tensor::randn(0f32, 0.1, (b, d), &Device::Cpu)?)?;
    let h = Var::from_tensor(&Tensor::randn(0f32, 0.1, (n, d), &Device::Cpu)?)?;
    let (mut tf, mut tb) = (0.0, 0.0);
    for it in 0..60 {
        let t0 = Instant::now();
        let s = din::model::fused_attention::scores(&unit.mlp, unit.input, t.as_tensor(), h.as_tensor(), &seg)?;
        let t1 = Instant::now();
        let _g = s.sum_all()?.backward()?;
        let t2 = Instant::now();
        if it >= 10 { tf += (t1 - t0).as_secs_f64(); tb += (t2 - t1).as_secs_f64(); }
    }
    println!("fwd {:.2} ms, bwd {:.2} ms", tf / 50.0 * 1e3, tb / 50.0 * 1e3);
    Ok(())
}
