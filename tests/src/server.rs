//! Starting the sandbox: two listeners sharing one state — the fake platforms plus `/_sandbox`
//! (the "platform" port) and the demo shop (the "shop" port). Tests start it in-process on port 0;
//! the `ar-sandbox` binary (and `make dev`) on fixed ports.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::SandboxConfig;
use crate::state::{AppState, SandboxState};

/// A running sandbox; dropping it stops both listeners.
#[derive(Debug)]
pub struct Sandbox {
    /// `http://127.0.0.1:<port>` of the fake platforms and `/_sandbox`.
    pub platform_url: String,
    /// `http://127.0.0.1:<port>` of the demo shop.
    pub shop_url: String,
    /// The shared state (tests may read it directly).
    pub state: AppState,
    tasks: Vec<JoinHandle<()>>,
}

/// The platform listener's router.
pub fn platform_router(state: AppState) -> Router {
    crate::inspect::routes()
        .fallback(crate::platforms::dispatch)
        .with_state(state)
}

/// The shop listener's router.
pub fn shop_router(state: AppState) -> Router {
    crate::shop::routes().with_state(state)
}

impl Sandbox {
    /// Starts on the given addresses (port 0 picks a free port).
    ///
    /// # Errors
    /// When a listener cannot be bound.
    pub async fn start(
        mut config: SandboxConfig,
        platform_addr: SocketAddr,
        shop_addr: SocketAddr,
    ) -> std::io::Result<Self> {
        let platform = TcpListener::bind(platform_addr).await?;
        let shop = TcpListener::bind(shop_addr).await?;
        let platform_url = format!("http://{}", platform.local_addr()?);
        let shop_url = format!("http://{}", shop.local_addr()?);
        if config.shop.platform_url.is_empty() {
            config.shop.platform_url.clone_from(&platform_url);
        }
        let state = SandboxState::new(config);
        let platform_app = platform_router(state.clone());
        let shop_app = shop_router(state.clone());
        let tasks = vec![
            tokio::spawn(async move {
                if let Err(e) = axum::serve(platform, platform_app).await {
                    eprintln!("sandbox platform listener stopped: {e}");
                }
            }),
            tokio::spawn(async move {
                if let Err(e) = axum::serve(shop, shop_app).await {
                    eprintln!("sandbox shop listener stopped: {e}");
                }
            }),
        ];
        Ok(Self {
            platform_url,
            shop_url,
            state,
            tasks,
        })
    }

    /// Starts on two free loopback ports (for tests).
    ///
    /// # Errors
    /// When a listener cannot be bound.
    pub async fn start_local(config: SandboxConfig) -> std::io::Result<Self> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start(config, any, any).await
    }

    /// Waits until both listeners stop (they run until the process ends).
    pub async fn wait(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
