//! The hello-world baseline of `make bench` (bench/verify.sh, docs/protect-your-api.md
//! "Figures"): the server's actix-web, worker count and allocator, answering `GET /` with five
//! bytes. Figures for `/verify` are given as a share of what this serves in the same run.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::io::Result<()> {
    let listen = std::env::var("HELLO_LISTEN").unwrap_or_else(|_| "127.0.0.1:18190".to_owned());
    actix_web::rt::System::new().block_on(async move {
        actix_web::HttpServer::new(|| {
            actix_web::App::new()
                .route("/", actix_web::web::get().to(|| async { actix_web::HttpResponse::Ok().body("hello") }))
        })
        .bind(listen)?
        .run()
        .await
    })
}
