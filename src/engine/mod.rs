pub mod nspath; pub mod words; pub mod store;
