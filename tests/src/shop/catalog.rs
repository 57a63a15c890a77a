//! The demo shop's fixed catalogue.

/// A product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Product {
    /// SKU, used in URLs and item lists.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Unit price in the shop currency.
    pub price: f64,
}

/// Every product.
pub const PRODUCTS: [Product; 3] = [
    Product {
        id: "sku-1",
        name: "Mug",
        price: 19.95,
    },
    Product {
        id: "sku-2",
        name: "Tea towel",
        price: 12.5,
    },
    Product {
        id: "sku-3",
        name: "Teapot",
        price: 42.0,
    },
];

/// The product with this id.
pub fn product(id: &str) -> Option<Product> {
    PRODUCTS.iter().copied().find(|p| p.id == id)
}

/// Rounds money to cents (avoids `59.849999…` in JSON).
pub fn round_cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
