//! Synthetic camera frames with QR codes, generated deterministically (seeded RNG):
//! shared by `tests/qr.rs` and `benches/qr.rs` (included there with `#[path]`), so
//! no binary fixtures live in the repository.
//!
//! A frame is a textured, unevenly lit "desk" background with clutter, and a QR code
//! (with its light quiet zone, as a phone screen or a print shows it) placed by a
//! projective transform: module size, rotation and perspective vary; then camera
//! blur, sensor noise and a colour tint. Payloads are realistic `otpauth://` URIs and
//! the codes of a 3-code Google Authenticator export.

#![allow(dead_code, reason = "each includer uses a different part")]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap,
    reason = "pixel arithmetic on small, clamped values"
)]
#![allow(
    clippy::expect_used,
    reason = "test code: a failure is a broken generator"
)]
#![allow(
    clippy::many_single_char_names,
    reason = "matrix entries and coordinates named as in the formulas"
)]

use std::collections::VecDeque;

use kaito_core::qr::{Frame, FrameSource, FrameSourceError};
use kaito_core::{Algorithm, OtpKind, Secret, Token};
use qrcode::{Color, EcLevel, QrCode};

pub const HD: (u32, u32) = (1280, 720);
/// Sensor noise is drawn from a table (at a random offset per row): per-pixel
/// Gaussian draws are too slow in unoptimised test builds.
const NOISE_TABLE: usize = 1 << 16;
pub const FULL_HD: (u32, u32) = (1920, 1080);

/// `SplitMix64`: tiny, fast in debug builds, and stable across platforms.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    pub fn range(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.unit()
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Approximately standard normal (Irwin–Hall of four uniforms: cheap, and
    /// bounded, like real sensor noise after clipping).
    pub fn gauss(&mut self) -> f32 {
        let bits = self.next_u64();
        let sum: f32 = (0..4)
            .map(|i| ((bits >> (16 * i)) & 0xFFFF) as f32 / 65_536.0)
            .sum();
        (sum - 2.0) * 3.0_f32.sqrt()
    }
}

// ---------------------------------------------------------------------------------
// Payloads

const ISSUERS: &[&str] = &[
    "GitHub",
    "Google",
    "Amazon Web Services",
    "Cloudflare",
    "Microsoft",
    "Dropbox",
    "Slack",
    "GitLab",
    "Atlassian",
    "DigitalOcean",
    "Proton",
    "Fastmail",
];
const USERS: &[&str] = &[
    "alice",
    "bob.smith",
    "carol",
    "dave.ops",
    "erin",
    "frank",
    "grace.h",
    "heidi",
];
const DOMAINS: &[&str] = &["example.com", "corp.example.org", "team.example.net"];

fn random_secret(rng: &mut Rng) -> Secret {
    // 20 bytes = the 32 base32 characters most services issue.
    let bytes: Vec<u8> = (0..20).map(|_| rng.next_u64() as u8).collect();
    Secret::from_bytes(bytes).expect("non-empty")
}

pub fn random_token(rng: &mut Rng) -> Token {
    let issuer = ISSUERS[rng.below(ISSUERS.len())];
    let account = format!(
        "{}@{}",
        USERS[rng.below(USERS.len())],
        DOMAINS[rng.below(DOMAINS.len())]
    );
    let (algorithm, digits) = match rng.below(6) {
        0 => (Algorithm::Sha256, 8),
        1 => (Algorithm::Sha512, 6),
        _ => (Algorithm::Sha1, 6),
    };
    Token::new(
        issuer,
        account,
        OtpKind::Totp { period: 30 },
        algorithm,
        digits,
        random_secret(rng),
    )
    .expect("valid token")
}

/// A realistic single-token URI, 100–150 characters.
pub fn otpauth_uri(rng: &mut Rng) -> String {
    kaito_core::uri::to_uri(&random_token(rng)).to_string()
}

/// A Google Authenticator export of `count` tokens (10 per code, as Google does).
pub fn migration_export(seed: u64, count: usize) -> (Vec<Token>, Vec<String>) {
    let mut rng = Rng::new(seed);
    let tokens: Vec<Token> = (0..count).map(|_| random_token(&mut rng)).collect();
    let batch_id = rng.next_u64() as i32;
    let export = kaito_core::export::to_google_migration(&tokens, batch_id);
    let uris = export.batches.iter().map(|uri| uri.to_string()).collect();
    (tokens, uris)
}

pub const NOT_TWO_FACTOR: &str = "https://menu.example.com/table/12?lang=en&utm_source=qr";

// ---------------------------------------------------------------------------------
// Rendering

/// An RGB8 frame as a camera would deliver it.
#[derive(Clone)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
    /// Where the code's own corners (quiet zone excluded) were drawn: top-left,
    /// top-right, bottom-right, bottom-left in the code's orientation.
    pub code_corners: Option<Corners>,
}

impl Picture {
    pub fn frame(&self) -> Frame {
        Frame::from_rgb8(self.width, self.height, &self.rgb).expect("consistent size")
    }
}

/// How a code is shown to the camera.
#[derive(Debug, Clone, Copy)]
pub struct Look {
    /// Size of one module, in frame pixels.
    pub module_px: f32,
    pub rotation_deg: f32,
    /// Corner displacement as a fraction of the code's side (mild perspective).
    pub perspective: f32,
    /// Gaussian blur (defocus) in frame pixels; 0 for none.
    pub blur_sigma: f32,
    /// Sensor noise, in gray levels.
    pub noise_sigma: f32,
    pub dark: f32,
    pub light: f32,
}

impl Look {
    pub fn clean(module_px: f32) -> Self {
        Self {
            module_px,
            rotation_deg: 0.0,
            perspective: 0.0,
            blur_sigma: 0.0,
            noise_sigma: 2.0,
            dark: 35.0,
            light: 225.0,
        }
    }
}

/// A frame of `size` showing `payload` (or no code) as `look` says.
pub fn render(rng: &mut Rng, size: (u32, u32), payload: Option<&str>, look: &Look) -> Picture {
    let (width, height) = (size.0 as usize, size.1 as usize);
    let mut gray = background(rng, width, height);
    let mut code_corners = None;
    if let Some(payload) = payload {
        let level = if payload.len() > 400 {
            EcLevel::L
        } else {
            EcLevel::M
        };
        let code = QrCode::with_error_correction_level(payload, level).expect("payload fits");
        let (bounds, corners) = draw_code(rng, &mut gray, width, height, &code, look);
        code_corners = Some(corners);
        if look.blur_sigma > 0.0 {
            blur(&mut gray, width, height, bounds, look.blur_sigma);
        }
    }
    // Plain index loops and lookup tables throughout: tests run this unoptimised.
    let noise_sigma = look.noise_sigma.max(1.0);
    let noise: Vec<f32> = (0..NOISE_TABLE)
        .map(|_| noise_sigma * rng.gauss())
        .collect();
    let mut tint = [[0u8; 256]; 3];
    for (channel, table) in tint.iter_mut().enumerate() {
        let factor = [
            rng.range(0.92, 1.08),
            rng.range(0.95, 1.05),
            rng.range(0.88, 1.06),
        ][channel];
        for (value, entry) in table.iter_mut().enumerate() {
            *entry = (value as f32 * factor).min(255.0) as u8;
        }
    }
    let mut rgb = vec![0u8; width * height * 3];
    for y in 0..height {
        let offset = rng.below(NOISE_TABLE);
        for x in 0..width {
            let value = gray[y * width + x] + noise[(offset + x) % NOISE_TABLE];
            let value = if value < 0.0 {
                0
            } else if value > 255.0 {
                255
            } else {
                value as usize
            };
            let at = (y * width + x) * 3;
            rgb[at] = tint[0][value];
            rgb[at + 1] = tint[1][value];
            rgb[at + 2] = tint[2][value];
        }
    }
    Picture {
        width: size.0,
        height: size.1,
        rgb,
        code_corners,
    }
}

/// Smooth value noise (an out-of-focus room), a light gradient and some clutter.
fn background(rng: &mut Rng, width: usize, height: usize) -> Vec<f32> {
    const CELL: usize = 96;
    let (grid_w, grid_h) = (width / CELL + 2, height / CELL + 2);
    let grid: Vec<f32> = (0..grid_w * grid_h)
        .map(|_| rng.range(70.0, 190.0))
        .collect();
    let (gx, gy) = (rng.range(-0.3, 0.3), rng.range(-0.3, 0.3));
    let mut gray = vec![0.0_f32; width * height];
    let step = 1.0 / CELL as f32;
    for y in 0..height {
        let (cell_y, fy) = (y / CELL, (y % CELL) as f32 * step);
        let light_y = 1.0 + gy * (y as f32 / height as f32 - 0.5);
        let light_step = gx / width as f32;
        let mut light = light_y - gx * 0.5;
        let row = y * width;
        for cell_x in 0..width.div_ceil(CELL) {
            let top_left = grid[cell_y * grid_w + cell_x];
            let top_right = grid[cell_y * grid_w + cell_x + 1];
            let bottom_left = grid[(cell_y + 1) * grid_w + cell_x];
            let bottom_right = grid[(cell_y + 1) * grid_w + cell_x + 1];
            let left = top_left + (bottom_left - top_left) * fy;
            let right = top_right + (bottom_right - top_right) * fy;
            let slope = (right - left) * step;
            let mut value = left;
            for x in cell_x * CELL..((cell_x + 1) * CELL).min(width) {
                gray[row + x] = value * light;
                value += slope;
                light += light_step;
            }
        }
    }
    // Clutter: boxes, and rows of small dark marks like printed text.
    for _ in 0..8 {
        let (w, h) = (
            rng.range(40.0, 400.0) as usize,
            rng.range(20.0, 300.0) as usize,
        );
        let (x0, y0) = (
            rng.below(width.saturating_sub(w).max(1)),
            rng.below(height.saturating_sub(h).max(1)),
        );
        let value = rng.range(20.0, 240.0);
        for y in y0..(y0 + h).min(height) {
            for pixel in &mut gray[y * width + x0..y * width + (x0 + w).min(width)] {
                *pixel = value;
            }
        }
    }
    for _ in 0..4 {
        let (x0, y0) = (rng.below(width * 3 / 4), rng.below(height * 9 / 10));
        let glyph = rng.range(6.0, 14.0) as usize;
        for line in 0..3 {
            let mut x = x0;
            for _ in 0..20 {
                let w = rng.range(2.0, glyph as f32) as usize;
                let y = y0 + line * glyph * 2;
                for yy in y..(y + glyph).min(height) {
                    for xx in x..(x + w).min(width) {
                        gray[yy * width + xx] = 40.0;
                    }
                }
                x += w + glyph / 2;
            }
        }
    }
    gray
}

/// 3×3 projective transform, row-major.
type Matrix = [[f64; 3]; 3];
/// Pixel rectangle: x0, y0 inclusive; x1, y1 exclusive.
type Bounds = (usize, usize, usize, usize);
/// Four corners, clockwise from the code's top-left.
type Corners = [(f32, f32); 4];

/// Heckbert's closed form: the unit square's corners (0,0) (1,0) (1,1) (0,1) to `quad`.
fn square_to_quad(quad: [(f64, f64); 4]) -> Matrix {
    let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = quad;
    let (dx1, dx2, dx3) = (x1 - x2, x3 - x2, x0 - x1 + x2 - x3);
    let (dy1, dy2, dy3) = (y1 - y2, y3 - y2, y0 - y1 + y2 - y3);
    let det = dx1 * dy2 - dx2 * dy1;
    let g = (dx3 * dy2 - dx2 * dy3) / det;
    let h = (dx1 * dy3 - dx3 * dy1) / det;
    [
        [x1 - x0 + g * x1, x3 - x0 + h * x3, x0],
        [y1 - y0 + g * y1, y3 - y0 + h * y3, y0],
        [g, h, 1.0],
    ]
}

fn invert(m: &Matrix) -> Matrix {
    let [[a, b, c], [d, e, f], [g, h, i]] = *m;
    let (ca, cb, cc) = (e * i - f * h, f * g - d * i, d * h - e * g);
    let det = a * ca + b * cb + c * cc;
    [
        [ca / det, (c * h - b * i) / det, (b * f - c * e) / det],
        [cb / det, (a * i - c * g) / det, (c * d - a * f) / det],
        [cc / det, (b * g - a * h) / det, (a * e - b * d) / det],
    ]
}

/// Draws `code` with a 4-module quiet zone; returns its pixel bounds (x0, y0, x1, y1)
/// and the code's corners.
fn draw_code(
    rng: &mut Rng,
    gray: &mut [f32],
    width: usize,
    height: usize,
    code: &QrCode,
    look: &Look,
) -> (Bounds, Corners) {
    let modules = code.width();
    let dark_modules: Vec<bool> = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    let span = modules + 8;
    let side = f64::from(look.module_px) * span as f64;
    let angle = f64::from(look.rotation_deg).to_radians();
    let (sin, cos) = angle.sin_cos();
    let reach = side * (sin.abs() + cos.abs()) / 2.0 + side * f64::from(look.perspective);
    let free_x = (width as f64 - 2.0 * reach).max(0.0);
    let free_y = (height as f64 - 2.0 * reach).max(0.0);
    let cx = reach + free_x * f64::from(rng.unit());
    let cy = reach + free_y * f64::from(rng.unit());
    let jitter = side * f64::from(look.perspective);
    let mut corner = |sx: f64, sy: f64| {
        let (px, py) = (sx * side / 2.0, sy * side / 2.0);
        (
            cx + px * cos - py * sin + jitter * f64::from(rng.range(-1.0, 1.0)),
            cy + px * sin + py * cos + jitter * f64::from(rng.range(-1.0, 1.0)),
        )
    };
    let quad = [
        corner(-1.0, -1.0),
        corner(1.0, -1.0),
        corner(1.0, 1.0),
        corner(-1.0, 1.0),
    ];
    let forward = square_to_quad(quad);
    let inverse = invert(&forward);
    let project = |u: f64, v: f64| {
        let (s, t) = (u / span as f64, v / span as f64);
        let [[a, b, c], [d, e, f], [g, h, i]] = forward;
        let w = g * s + h * t + i;
        (
            ((a * s + b * t + c) / w) as f32,
            ((d * s + e * t + f) / w) as f32,
        )
    };
    let inner = (4 + modules) as f64;
    let code_corners = [
        project(4.0, 4.0),
        project(inner, 4.0),
        project(inner, inner),
        project(4.0, inner),
    ];
    let clamp_x = |v: f64| (v.max(0.0) as usize).min(width);
    let clamp_y = |v: f64| (v.max(0.0) as usize).min(height);
    let x0 = clamp_x(quad.iter().map(|p| p.0).fold(f64::MAX, f64::min).floor());
    let x1 = clamp_x(quad.iter().map(|p| p.0).fold(f64::MIN, f64::max).ceil() + 1.0);
    let y0 = clamp_y(quad.iter().map(|p| p.1).fold(f64::MAX, f64::min).floor());
    let y1 = clamp_y(quad.iter().map(|p| p.1).fold(f64::MIN, f64::max).ceil() + 1.0);

    let (dark, light) = (look.dark, look.light);
    let span_f = span as f64;
    let [[a, b, c], [d, e, f], [g, h, i]] = inverse;
    // 2×2 supersampling (the anti-aliased edges a lens gives); the projective
    // numerators and denominator are linear along a row, so they are stepped.
    let offsets = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)];
    let mut sums = vec![0.0_f32; x1 - x0];
    let mut counts = vec![0u8; x1 - x0];
    for y in y0..y1 {
        sums.fill(0.0);
        counts.fill(0);
        for (ox, oy) in offsets {
            let (px, py) = (x0 as f64 + ox, y as f64 + oy);
            let mut nu = a * px + b * py + c;
            let mut nv = d * px + e * py + f;
            let mut w = g * px + h * py + i;
            for k in 0..x1 - x0 {
                let s = nu / w * span_f;
                let t = nv / w * span_f;
                nu += a;
                nv += d;
                w += g;
                if s < 0.0 || t < 0.0 || s >= span_f || t >= span_f {
                    continue;
                }
                let (u, v) = (s as usize, t as usize);
                let is_dark = u >= 4
                    && v >= 4
                    && u < 4 + modules
                    && v < 4 + modules
                    && dark_modules[(v - 4) * modules + (u - 4)];
                sums[k] += if is_dark { dark } else { light };
                counts[k] += 1;
            }
        }
        for k in 0..x1 - x0 {
            if counts[k] > 0 {
                let pixel = &mut gray[y * width + x0 + k];
                *pixel = (sums[k] + *pixel * f32::from(4 - counts[k])) / 4.0;
            }
        }
    }
    ((x0, y0, x1, y1), code_corners)
}

/// Separable Gaussian blur of the region (plus a margin) in place.
fn blur(gray: &mut [f32], width: usize, height: usize, bounds: Bounds, sigma: f32) {
    let radius = (sigma * 3.0).ceil() as usize;
    let kernel: Vec<f32> = (0..=2 * radius)
        .map(|k| {
            let d = k as f32 - radius as f32;
            (-d * d / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let total: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
    let x0 = bounds.0.saturating_sub(2 * radius);
    let y0 = bounds.1.saturating_sub(2 * radius);
    let x1 = (bounds.2 + 2 * radius).min(width);
    let y1 = (bounds.3 + 2 * radius).min(height);
    // Each line is copied with `radius` edge pixels repeated on both sides, so the
    // inner loop needs no bounds juggling.
    let taps = kernel.len();
    let mut line = Vec::new();
    for y in y0..y1 {
        let row = &gray[y * width + x0..y * width + x1];
        padded(&mut line, row.iter().copied(), radius);
        for x in 0..x1 - x0 {
            let mut acc = 0.0;
            for k in 0..taps {
                acc += line[x + k] * kernel[k];
            }
            gray[y * width + x0 + x] = acc;
        }
    }
    for x in x0..x1 {
        padded(&mut line, (y0..y1).map(|y| gray[y * width + x]), radius);
        for y in 0..y1 - y0 {
            let mut acc = 0.0;
            for k in 0..taps {
                acc += line[y + k] * kernel[k];
            }
            gray[(y0 + y) * width + x] = acc;
        }
    }
}

fn padded(line: &mut Vec<f32>, values: impl Iterator<Item = f32>, radius: usize) {
    line.clear();
    line.extend(values);
    let (first, last) = (line[0], line[line.len() - 1]);
    line.splice(0..0, std::iter::repeat_n(first, radius));
    line.extend(std::iter::repeat_n(last, radius));
}

// ---------------------------------------------------------------------------------
// The varied corpus

/// One corpus frame and the payload it shows.
pub struct Sample {
    pub name: String,
    pub picture: Picture,
    pub payload: Option<String>,
}

/// Degradations of the varied set, each applied at every module size.
pub const VARIANTS: &[&str] = &[
    "clean",
    "blur",
    "noise",
    "low-contrast",
    "rotated-small",
    "rotated-quarter",
    "rotated-any",
    "perspective",
    "combined",
];
/// Module sizes cycled through within each variant.
pub const MODULE_SIZES: &[f32] = &[3.0, 4.0, 5.0, 6.0, 8.0];

pub fn look_for(variant: &str, module_px: f32, rng: &mut Rng) -> Look {
    let mut look = Look::clean(module_px);
    let sign = if rng.unit() < 0.5 { -1.0 } else { 1.0 };
    match variant {
        "clean" => {}
        "blur" => look.blur_sigma = rng.range(1.0, 1.6),
        "noise" => look.noise_sigma = rng.range(12.0, 20.0),
        "low-contrast" => {
            look.dark = rng.range(95.0, 110.0);
            look.light = rng.range(150.0, 165.0);
            look.noise_sigma = 4.0;
        }
        "rotated-small" => look.rotation_deg = sign * rng.range(4.0, 15.0),
        "rotated-quarter" => {
            look.rotation_deg = 90.0 * (1 + rng.below(3)) as f32 + rng.range(-2.0, 2.0);
        }
        "rotated-any" => look.rotation_deg = rng.range(0.0, 360.0),
        "perspective" => {
            look.perspective = rng.range(0.05, 0.09);
            look.rotation_deg = sign * rng.range(0.0, 8.0);
        }
        "combined" => {
            look.blur_sigma = 1.0;
            look.noise_sigma = 8.0;
            look.rotation_deg = sign * rng.range(3.0, 12.0);
            look.perspective = 0.04;
            look.dark = 60.0;
            look.light = 200.0;
        }
        other => panic!("unknown variant {other}"),
    }
    look
}

/// The varied set: every variant at every module size (720p and 1080p alternating)
/// with an `otpauth://` code, the three codes of an export, and frames without a code.
/// 54 frames in all.
pub fn varied_corpus() -> Vec<Sample> {
    varied_corpus_with_seed(0x6b61_6974_6f51_5201)
}

/// The same set drawn with another seed (the bench checks the rate is no fluke).
pub fn varied_corpus_with_seed(seed: u64) -> Vec<Sample> {
    let mut rng = Rng::new(seed);
    let mut samples = Vec::new();
    for (v, variant) in VARIANTS.iter().enumerate() {
        for (m, &module_px) in MODULE_SIZES.iter().enumerate() {
            let size = if (v + m) % 2 == 0 { HD } else { FULL_HD };
            let uri = otpauth_uri(&mut rng);
            let look = look_for(variant, module_px, &mut rng);
            samples.push(Sample {
                name: format!("{variant} {}p {module_px}px", size.1),
                picture: render(&mut rng, size, Some(&uri), &look),
                payload: Some(uri),
            });
        }
    }
    let (_, batches) = migration_export(7, 25);
    for (index, (uri, variant)) in batches
        .iter()
        .zip(["clean", "rotated-small", "noise"])
        .enumerate()
    {
        let size = if index == 1 { HD } else { FULL_HD };
        let module_px = if size == HD { 4.0 } else { 6.0 };
        let look = look_for(variant, module_px, &mut rng);
        samples.push(Sample {
            name: format!(
                "export code {} {variant} {}p {module_px}px",
                index + 1,
                size.1
            ),
            picture: render(&mut rng, size, Some(uri), &look),
            payload: Some(uri.clone()),
        });
    }
    for index in 0..6 {
        let size = if index % 2 == 0 { HD } else { FULL_HD };
        let look = Look::clean(4.0);
        samples.push(Sample {
            name: format!("no code {index} {}p", size.1),
            picture: render(&mut rng, size, None, &look),
            payload: None,
        });
    }
    samples
}

// ---------------------------------------------------------------------------------
// A frame source for driving ScanSession

/// Yields the given frames in order, then ends.
#[derive(Debug, Default)]
pub struct SyntheticFrameSource {
    frames: VecDeque<Frame>,
    /// Frames handed out so far.
    pub served: usize,
}

impl SyntheticFrameSource {
    pub fn new(frames: impl IntoIterator<Item = Frame>) -> Self {
        Self {
            frames: frames.into_iter().collect(),
            served: 0,
        }
    }

    /// Frames showing each payload in turn (`None`: a frame without a code), 720p,
    /// mildly varied as a hand-held phone would be.
    pub fn showing(seed: u64, payloads: &[Option<&str>]) -> Self {
        let mut rng = Rng::new(seed);
        Self::new(payloads.iter().map(|payload| {
            let mut look = Look::clean(5.0);
            look.rotation_deg = rng.range(-8.0, 8.0);
            look.noise_sigma = 4.0;
            render(&mut rng, HD, *payload, &look).frame()
        }))
    }

    pub fn remaining(&self) -> usize {
        self.frames.len()
    }
}

impl FrameSource for SyntheticFrameSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, FrameSourceError> {
        let frame = self.frames.pop_front();
        if frame.is_some() {
            self.served += 1;
        }
        Ok(frame)
    }
}
