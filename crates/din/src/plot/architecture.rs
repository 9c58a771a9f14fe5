//! DIN's architecture as a diagram.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{color, note, perr, render, Svg, FONT};
use crate::error::Result;

/// DIN's architecture as a diagram, from the ids at the top to the CTR at the bottom: the user,
/// the two histories and the candidate (item and category) → the shared embedding tables → one
/// activation unit per history (`[t, h, t−h, t⊙h]` → MLP `attention_dims` → one weight per
/// position) → the weighted sums → the head input `[V_item, V_cate, t_item, t_cate, user]` → the
/// MLP `mlp_dims` → sigmoid. `d` = `embed_dim`; labels in Chinese and English.
///
/// ```
/// let svg = din::plot::architecture(64, &[256, 128], &[256, 128])?;
/// assert!(svg.0.contains("激活单元") && svg.0.contains("[256, 128]"));
/// assert!(svg.0.contains("5d = 320"));
/// # Ok::<(), din::Error>(())
/// ```
pub fn architecture(embed_dim: usize, attention_dims: &[usize], mlp_dims: &[usize]) -> Result<Svg> {
    const W: i32 = 1000;
    const H: i32 = 680;
    let d = embed_dim;
    render(W as u32, H as u32, |root| {
        let ink = BLACK.mix(0.85);
        let title = TextStyle::from((FONT, 20).into_font())
            .color(&ink)
            .pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(
            "DIN 的结构 · The architecture of DIN".to_string(),
            (W / 2, 10),
            title,
        ))
        .map_err(perr)?;
        architecture_inputs(root)?;
        architecture_attention(root, attention_dims)?;
        architecture_head(root, d, mlp_dims)?;
        note(
            root,
            &format!(
                "d = {d}；历史和候选共用一张商品表、一张类目表（shared_with）· histories and \
                 candidates share one item table and one category table"
            ),
            (20, 640),
        )?;
        note(
            root,
            "教程代码（torch-rechub）把候选和用户再拼一次：8d · the tutorial's torch-rechub code \
             concatenates the target and the user once more: 8d",
            (20, 658),
        )
    })
}

/// A box of the architecture figure: tinted fill, outline, centred lines (the first larger).
fn diagram_box(
    root: &DrawingArea<SVGBackend, Shift>,
    (x, y, w, h): (i32, i32, i32, i32),
    fill: RGBColor,
    lines: &[String],
) -> Result<()> {
    let ink = BLACK.mix(0.85);
    root.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        fill.mix(0.22).filled(),
    ))
    .map_err(perr)?;
    root.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        fill.stroke_width(2),
    ))
    .map_err(perr)?;
    let n = lines.len() as i32;
    for (k, line) in lines.iter().enumerate() {
        let size = if k == 0 { 15 } else { 13 };
        let style = TextStyle::from((FONT, size).into_font())
            .color(&ink)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let ty = y + h / 2 + (2 * k as i32 - (n - 1)) * 9;
        root.draw(&Text::new(line.clone(), (x + w / 2, ty), style))
            .map_err(perr)?;
    }
    Ok(())
}

/// An arrow of the architecture figure from `(x0, y0)` to `(x1, y1)`, its head at the end.
fn diagram_arrow(
    root: &DrawingArea<SVGBackend, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
) -> Result<()> {
    let grey = BLACK.mix(0.55);
    root.draw(&PathElement::new(
        vec![(x0, y0), (x1, y1)],
        grey.stroke_width(2),
    ))
    .map_err(perr)?;
    // arrowhead pointing along the line
    let (dx, dy) = ((x1 - x0) as f64, (y1 - y0) as f64);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let p = |a: f64, b: f64| ((x1 as f64 + a) as i32, (y1 as f64 + b) as i32);
    let head = vec![
        (x1, y1),
        p(-9.0 * ux - 5.0 * uy, -9.0 * uy + 5.0 * ux),
        p(-9.0 * ux + 5.0 * uy, -9.0 * uy - 5.0 * ux),
    ];
    root.draw(&Polygon::new(head, grey.filled())).map_err(perr)
}

/// The figure's first two rows: the five inputs (ids) and their embeddings.
fn architecture_inputs(root: &DrawingArea<SVGBackend, Shift>) -> Result<()> {
    let s = |t: &str| t.to_string();
    let cols = [
        (20, "用户 user"),
        (210, "历史商品 item history"),
        (400, "候选商品 target item"),
        (600, "历史类目 category history"),
        (800, "候选类目 target category"),
    ];
    let emb = [
        s("e_user [d]"),
        s("h_1 … h_L [L, d]"),
        s("t_item [d]"),
        s("c_1 … c_L [L, d]"),
        s("t_cate [d]"),
    ];
    for (k, &(x, name)) in cols.iter().enumerate() {
        let id_line = if k == 1 || k == 3 {
            s("ids [L]")
        } else {
            s("id")
        };
        diagram_box(root, (x, 46, 180, 46), color(0), &[s(name), id_line])?;
        diagram_arrow(root, (x + 90, 92), (x + 90, 120))?;
        diagram_box(
            root,
            (x, 122, 180, 46),
            color(1),
            &[s("嵌入 embedding"), emb[k].clone()],
        )?;
    }
    Ok(())
}

/// The two activation units (one per history) and their weighted sums.
fn architecture_attention(
    root: &DrawingArea<SVGBackend, Shift>,
    attention_dims: &[usize],
) -> Result<()> {
    let s = |t: &str| t.to_string();
    let unit = |x: i32, what: &str| -> Result<()> {
        diagram_box(
            root,
            (x, 214, 370, 74),
            color(2),
            &[
                format!("激活单元 activation unit ({what})"),
                s("每个位置 each position: [t, h, t−h, t⊙h] (4d)"),
                format!("→ MLP {attention_dims:?} (Dice) → 权重 weight w_i"),
            ],
        )
    };
    unit(200, "商品 item")?;
    unit(590, "类目 category")?;
    diagram_arrow(root, (300, 168), (330, 212))?; // item history → item unit
    diagram_arrow(root, (490, 168), (450, 212))?; // target item → item unit
    diagram_arrow(root, (690, 168), (720, 212))?; // category history → category unit
    diagram_arrow(root, (890, 168), (860, 212))?; // target category → category unit
    let sum = |x: i32, formula: &str| {
        diagram_box(
            root,
            (x, 322, 370, 46),
            color(3),
            &[s("加权求和 weighted sum"), s(formula)],
        )
    };
    sum(200, "V_item = Σ w_i · h_i  [d]")?;
    sum(590, "V_cate = Σ w_i · c_i  [d]")?;
    diagram_arrow(root, (385, 288), (385, 320))?;
    diagram_arrow(root, (775, 288), (775, 320))
}

/// The head input (concatenation), the head MLP and the CTR.
fn architecture_head(
    root: &DrawingArea<SVGBackend, Shift>,
    d: usize,
    mlp_dims: &[usize],
) -> Result<()> {
    let s = |t: &str| t.to_string();
    diagram_box(
        root,
        (200, 404, 760, 62),
        color(4),
        &[
            s("拼接 concat [V_item, V_cate, t_item, t_cate, e_user]"),
            s("t_item、t_cate、e_user 直接取自嵌入 · straight from the embeddings"),
            format!("5d = {}", 5 * d),
        ],
    )?;
    diagram_arrow(root, (385, 368), (450, 402))?;
    diagram_arrow(root, (775, 368), (700, 402))?;
    diagram_arrow(root, (110, 168), (198, 420))?; // user → concat
    diagram_box(
        root,
        (380, 502, 400, 46),
        color(5),
        &[s("全连接 MLP (Dice)"), format!("{mlp_dims:?} → 1 logit")],
    )?;
    diagram_arrow(root, (580, 466), (580, 500))?;
    diagram_box(
        root,
        (430, 584, 300, 46),
        color(6),
        &[s("sigmoid → CTR"), s("点击率 p(click)")],
    )?;
    diagram_arrow(root, (580, 548), (580, 582))
}
